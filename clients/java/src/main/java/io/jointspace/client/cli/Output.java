package io.jointspace.client.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Prints a command's result: an aligned table, or the API's JSON (one object per line for lists). */
final class Output {
  enum Format { TABLE, JSON }

  private final Format format;
  private final PrintWriter out;

  Output(Format format, PrintWriter out) {
    this.format = format;
    this.out = out;
  }

  boolean json() {
    return format == Format.JSON;
  }

  /** The message as JSON, or, for a table, the rows given. */
  void print(MessageOrBuilder message, List<String> header, List<List<String>> rows) {
    if (json()) {
      json(message);
    } else {
      table(header, rows);
    }
  }

  void json(MessageOrBuilder message) {
    try {
      out.println(JsonFormat.printer().omittingInsignificantWhitespace().print(message));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  void line(String s) {
    out.println(s);
  }

  void table(List<String> header, List<List<String>> rows) {
    int[] width = new int[header.size()];
    List<List<String>> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    for (List<String> row : all) {
      for (int i = 0; i < width.length; i++) {
        width[i] = Math.max(width[i], i < row.size() ? row.get(i).length() : 0);
      }
    }
    for (List<String> row : all) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < width.length; i++) {
        String cell = i < row.size() ? row.get(i) : "";
        b.append(i == width.length - 1 ? cell : String.format("%-" + width[i] + "s  ", cell));
      }
      out.println(b.toString().stripTrailing());
    }
    out.flush();
  }
}
