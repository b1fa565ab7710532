package io.jointspace.client.cli;

import io.jointspace.api.v1.ApiKey;
import io.jointspace.api.v1.CreateKeyResponse;
import io.jointspace.api.v1.ListKeysResponse;
import io.jointspace.client.JointspaceClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code keys create|list|revoke}: API keys, through a server's KeyService (an admin key's calls). */
@Command(name = "keys", mixinStandardHelpOptions = true,
    description = {"Make, list and revoke API keys (every command needs an admin key: JOINTSPACE_API_KEY, or --api-key).",
        "The first admin key comes from ./jointspace keys bootstrap, which writes it into the server's database."},
    subcommands = {KeysCommand.Create.class, KeysCommand.ListKeys.class, KeysCommand.Revoke.class})
final class KeysCommand {

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = {"Make a key and print it; it is shown only this once.",
          "Scopes: admin, models:read, models:write, infer, collections:read, collections:write; all but admin may be"
              + " limited to names: collections:read=products,images, infer=shapes-clip."})
  static final class Create extends Base implements Runnable {
    @Parameters(paramLabel = "NAME", description = "What or who uses the key.")
    String name;

    @Option(names = "--scope", paramLabel = "SCOPE", required = true,
        description = "A scope of the key; repeat the flag for several.")
    List<String> scopes;

    @Option(names = "--expires-in", paramLabel = "DURATION",
        description = "The key stops working after this long (e.g. 90d, 12h, 30m). Default: never.")
    String expiresIn;

    @Override
    public void run() {
      Instant expires = expiresIn == null ? null : Instant.now().plus(days(expiresIn));
      try (JointspaceClient c = connect()) {
        CreateKeyResponse r = c.createKey(name, scopes, expires);
        if (out().json()) {
          out().json(r);
        } else {
          out().line(r.getKey());
          spec.commandLine().getErr().println("API key " + r.getInfo().getId() + " (" + String.join(" ",
              r.getInfo().getScopesList()) + "): shown only now; send it as JOINTSPACE_API_KEY (or --api-key).");
        }
      }
    }

    private static java.time.Duration days(String s) {
      String t = s.trim().toLowerCase(java.util.Locale.ROOT);
      if (t.endsWith("d")) {
        try {
          return java.time.Duration.ofDays(Long.parseLong(t.substring(0, t.length() - 1)));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("'" + s + "' is not a duration (e.g. 90d, 12h, 30m)");
        }
      }
      return Cli.duration(s);
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "Every key (revoked and expired ones too), newest first; never a secret.")
  static final class ListKeys extends Base implements Runnable {
    @Override
    public void run() {
      try (JointspaceClient c = connect()) {
        List<ApiKey> keys = c.listKeys();
        List<List<String>> rows = new ArrayList<>();
        for (ApiKey k : keys) {
          rows.add(List.of(k.getId(), k.getName(), String.join(" ", k.getScopesList()), time(k.hasCreatedAt(), k.getCreatedAt()),
              k.getCreatedBy(), state(k), time(k.hasLastUsedAt(), k.getLastUsedAt())));
        }
        out().print(ListKeysResponse.newBuilder().addAllKeys(keys).build(),
            List.of("ID", "NAME", "SCOPES", "CREATED", "BY", "STATE", "LAST USED"), rows);
      }
    }

    private static String state(ApiKey k) {
      if (k.hasRevokedAt()) {
        return "revoked " + time(true, k.getRevokedAt());
      }
      if (k.hasExpiresAt()) {
        Instant at = Instant.ofEpochSecond(k.getExpiresAt().getSeconds());
        return (at.isBefore(Instant.now()) ? "expired " : "expires ") + at;
      }
      return "active";
    }

    private static String time(boolean set, com.google.protobuf.Timestamp t) {
      return set ? Instant.ofEpochSecond(t.getSeconds()).toString() : "-";
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = "Revoke a key at once: every server sharing the database refuses it within a second.")
  static final class Revoke extends Base implements Runnable {
    @Parameters(paramLabel = "ID", description = "The key's id (from keys list), or the whole key.")
    String id;

    @Override
    public void run() {
      try (JointspaceClient c = connect()) {
        ApiKey k = c.revokeKey(id);
        if (out().json()) {
          out().json(k);
        } else {
          out().line("revoked " + k.getId() + " (" + k.getName() + ")");
        }
      }
    }
  }
}
