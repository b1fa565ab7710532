package io.jointspace.client.cli;

import io.jointspace.client.JointspaceClient;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** What every command has: a connection to the server and the chosen output. */
abstract class Base {
  @Spec
  CommandSpec spec;

  private Cli root() {
    return (Cli) spec.root().userObject();
  }

  JointspaceClient connect() {
    return root().connect();
  }

  Output out() {
    return root().out(spec);
  }

  Cli cli() {
    return root();
  }
}
