package io.jointspace.server;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.annotation.Nullable;

/**
 * Where the gRPC port's TLS material lives ({@code tls} in the config): the server's PEM
 * certificate chain and its key, and optionally the CAs whose client certificates it
 * requires. {@link #check()} reads them the way the server will and turns every way they can
 * be wrong into one line that names the flag.
 *
 * @param clientCa null when clients present no certificate
 */
public record TlsFiles(Path cert, Path key, @Nullable Path clientCa) {
  static final String CERT = "--tls-cert";
  static final String KEY = "--tls-key";
  static final String CLIENT_CA = "--tls-client-ca";

  /** What {@link #check()} read, for the start-up log. */
  record Checked(List<X509Certificate> chain, PrivateKey key, List<X509Certificate> clientCas) {}

  /**
   * Reads and validates every file: each exists and is PEM of the right kind, the key is
   * unencrypted PKCS#8 (RSA or EC, what grpc-java's reader takes) and belongs to the first
   * certificate of the chain.
   *
   * @throws Settings.ConfigException naming the flag and the file
   */
  Checked check() {
    List<X509Certificate> chain = certificates(cert, CERT, "the server's certificate chain");
    PrivateKey privateKey = privateKey(key);
    if (!matches(privateKey, chain.get(0).getPublicKey())) {
      throw new Settings.ConfigException(KEY + " " + key + ": the private key does not belong to the certificate in "
          + CERT + " " + cert + " (subject " + chain.get(0).getSubjectX500Principal().getName() + ")");
    }
    List<X509Certificate> cas = clientCa == null ? List.of()
        : certificates(clientCa, CLIENT_CA, "the CA certificates of client certificates");
    return new Checked(chain, privateKey, cas);
  }

  private static byte[] read(Path file, String flag) {
    if (!Files.exists(file)) {
      throw new Settings.ConfigException(flag + " " + file + " does not exist");
    }
    if (!Files.isRegularFile(file)) {
      throw new Settings.ConfigException(flag + " " + file + " is not a file");
    }
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new Settings.ConfigException(flag + " " + file + " cannot be read: " + e.getMessage());
    }
  }

  private static List<X509Certificate> certificates(Path file, String flag, String what) {
    byte[] pem = read(file, flag);
    if (!new String(pem, StandardCharsets.US_ASCII).contains("-----BEGIN CERTIFICATE-----")) {
      throw new Settings.ConfigException(flag + " " + file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----);"
          + " it should hold " + what);
    }
    try {
      List<X509Certificate> certs = CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(pem)).stream()
          .map(X509Certificate.class::cast)
          .toList();
      if (certs.isEmpty()) {
        throw new CertificateException("no certificate found");
      }
      return certs;
    } catch (CertificateException e) {
      throw new Settings.ConfigException(flag + " " + file + " is not a readable PEM certificate: " + e.getMessage());
    }
  }

  private static PrivateKey privateKey(Path file) {
    String pem = new String(read(file, KEY), StandardCharsets.US_ASCII);
    if (pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
      throw new Settings.ConfigException(KEY + " " + file + " is encrypted; the server reads unencrypted keys:"
          + " decrypt it with openssl pkcs8 -in " + file + " -out server.key");
    }
    for (String legacy : new String[] {"RSA", "EC"}) {
      if (pem.contains("-----BEGIN " + legacy + " PRIVATE KEY-----")) {
        throw new Settings.ConfigException(KEY + " " + file + " holds an " + legacy + " key in the traditional format"
            + " (BEGIN " + legacy + " PRIVATE KEY); the server reads PKCS#8 (BEGIN PRIVATE KEY): convert it with"
            + " openssl pkcs8 -topk8 -nocrypt -in " + file + " -out server.key");
      }
    }
    if (!pem.contains("-----BEGIN PRIVATE KEY-----")) {
      throw new Settings.ConfigException(KEY + " " + file + " holds no PEM private key (-----BEGIN PRIVATE KEY-----)");
    }
    try {
      return io.grpc.util.CertificateUtils.getPrivateKey(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
      throw new Settings.ConfigException(KEY + " " + file + " is not a readable RSA or EC private key: " + e.getMessage());
    }
  }

  /** Whether {@code key} is the private half of {@code publicKey}: it signs, the certificate's key verifies. */
  static boolean matches(PrivateKey key, PublicKey publicKey) {
    if (!key.getAlgorithm().equals(publicKey.getAlgorithm())) {
      return false;
    }
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      default -> null;
    };
    if (algorithm == null) {
      return false;
    }
    try {
      byte[] challenge = new byte[32];
      new SecureRandom().nextBytes(challenge);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(publicKey);
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
