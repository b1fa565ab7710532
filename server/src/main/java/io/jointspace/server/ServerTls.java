package io.jointspace.server;

import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.annotation.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC port's TLS: grpc-java's {@link AdvancedTlsX509KeyManager} (and, for mTLS,
 * {@link AdvancedTlsX509TrustManager}) fed from the {@link TlsFiles}, which they read again
 * every {@link #RELOAD_PERIOD} on one daemon thread when the files' modification times
 * change. The key manager takes a new pair only once both the certificate and the key file
 * have changed, and keeps the previous one when the new files cannot be read; a handshake
 * uses whatever is current, so new connections get a rotated certificate without a restart
 * and open ones keep theirs.
 *
 * <p>Netty's defaults with these credentials allow TLS 1.2 and 1.3 only (and HTTP/2's
 * cipher suites, all TLS 1.2 or newer); a test holds the server to that.
 *
 * <p>Owned by {@link JointspaceServer}: started before the port opens, closed after it
 * stops.
 */
final class ServerTls implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ServerTls.class);
  /** How often the files are checked: grpc-java's minimum for its file-watching managers. */
  static final Duration RELOAD_PERIOD = Duration.ofMinutes(1);

  private final TlsFiles files;
  private final AdvancedTlsX509KeyManager keys;
  @Nullable private final AdvancedTlsX509TrustManager clientCas;
  private final ScheduledExecutorService reloader;
  private final List<AutoCloseable> watches = new ArrayList<>();
  /** The key manager's alias for the pair in use: it changes with every pair it takes (the same one too). */
  private String alias;
  /** The certificate in use, as last reported. */
  private X509Certificate current;

  private ServerTls(TlsFiles files, AdvancedTlsX509KeyManager keys, @Nullable AdvancedTlsX509TrustManager clientCas,
      ScheduledExecutorService reloader) {
    this.files = files;
    this.keys = keys;
    this.clientCas = clientCas;
    this.reloader = reloader;
  }

  /**
   * Checks the files, loads them and starts watching them.
   *
   * @throws Settings.ConfigException naming the flag and the file, when a file is missing,
   *     not PEM, or the key does not belong to the certificate
   */
  static ServerTls start(TlsFiles files) {
    TlsFiles.Checked checked = files.check();
    ScheduledExecutorService reloader = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "tls-reload");
      t.setDaemon(true);
      return t;
    });
    AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
    AdvancedTlsX509TrustManager clientCas = null;
    ServerTls tls = null;
    try {
      if (files.clientCa() != null) {
        // the peer is a client: its certificate is checked against the CAs, not a host name
        clientCas = AdvancedTlsX509TrustManager.newBuilder()
            .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
            .build();
      }
      tls = new ServerTls(files, keys, clientCas, reloader);
      tls.watches.add(keys.updateIdentityCredentials(files.cert().toFile(), files.key().toFile(),
          RELOAD_PERIOD.toMillis(), TimeUnit.MILLISECONDS, reloader));
      if (clientCas != null) {
        tls.watches.add(clientCas.updateTrustCredentials(files.clientCa().toFile(),
            RELOAD_PERIOD.toMillis(), TimeUnit.MILLISECONDS, reloader));
      }
    } catch (IOException | GeneralSecurityException e) {
      // the files changed between the check and the load
      if (tls != null) {
        tls.close();
      } else {
        reloader.shutdownNow();
      }
      throw new Settings.ConfigException("cannot load " + TlsFiles.CERT + " " + files.cert() + " and " + TlsFiles.KEY
          + " " + files.key() + (files.clientCa() == null ? "" : " with " + TlsFiles.CLIENT_CA + " " + files.clientCa())
          + ": " + e.getMessage());
    }
    tls.alias = keys.chooseEngineServerAlias(null, null, null);
    tls.current = keys.getCertificateChain(tls.alias)[0];
    log.info("TLS on the gRPC and HTTP ports with {}; {} (files checked for changes every {} s)",
        describe(checked.chain().get(0)),
        files.clientCa() == null ? "no client certificates"
            : "client certificates required, issued by " + checked.clientCas().size() + " CA(s) in " + files.clientCa(),
        RELOAD_PERIOD.toSeconds());
    // reports what the key manager's own reloads took, and a pair that does not fit together
    reloader.scheduleWithFixedDelay(tls::reportReload, RELOAD_PERIOD.toMillis() + 1000, RELOAD_PERIOD.toMillis(),
        TimeUnit.MILLISECONDS);
    return tls;
  }

  ServerCredentials credentials() {
    TlsServerCredentials.Builder b = TlsServerCredentials.newBuilder().keyManager(keys);
    if (clientCas != null) {
      b.trustManager(clientCas).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    }
    return b.build();
  }

  /**
   * The same key manager (and client CAs) for another TLS listener, the HTTP port: a
   * certificate reloaded from disk applies to both.
   */
  javax.net.ssl.SSLContext sslContext() {
    try {
      javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
      context.init(new javax.net.ssl.KeyManager[] {keys},
          clientCas == null ? null : new javax.net.ssl.TrustManager[] {clientCas}, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no TLS: " + e.getMessage(), e);
    }
  }

  boolean requiresClientCertificates() {
    return clientCas != null;
  }

  /** Runs on the reload thread only. */
  private void reportReload() {
    String now = keys.chooseEngineServerAlias(null, null, null);
    if (now == null || now.equals(alias)) {
      return;
    }
    alias = now;
    X509Certificate[] chain = keys.getCertificateChain(now);
    if (chain == null || chain.length == 0 || chain[0].equals(current)) {
      return; // the first periodic read takes the files read at start once more
    }
    current = chain[0];
    if (TlsFiles.matches(keys.getPrivateKey(now), chain[0].getPublicKey())) {
      log.info("TLS certificate reloaded from {}: {}", files.cert(), describe(chain[0]));
    } else {
      log.error("TLS certificate reloaded from {}, but the key in {} does not belong to it: handshakes fail until"
          + " both files hold one pair", files.cert(), files.key());
    }
  }

  private static String describe(X509Certificate cert) {
    Instant notAfter = cert.getNotAfter().toInstant();
    String expiry = notAfter.isBefore(Instant.now()) ? "EXPIRED on " + notAfter : "valid until " + notAfter;
    if (notAfter.isBefore(Instant.now())) {
      log.warn("The TLS certificate expired on {}: clients will refuse it", notAfter);
    }
    return "certificate " + cert.getSubjectX500Principal().getName() + " (serial " + cert.getSerialNumber().toString(16)
        + ", " + expiry + ")";
  }

  @Override
  public void close() {
    for (AutoCloseable watch : watches) {
      try {
        watch.close();
      } catch (Exception e) {
        // cancelling a scheduled read does not fail
      }
    }
    reloader.shutdownNow();
  }
}
