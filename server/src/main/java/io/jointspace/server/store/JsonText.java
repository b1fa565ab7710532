package io.jointspace.server.store;

/** Checks on JSON text before PostgreSQL's {@code jsonb} sees it. */
final class JsonText {
  private JsonText() {}

  /**
   * Whether the JSON text holds a NUL character, which {@code jsonb} cannot store: a
   * {@code \u005cu0000} escape, that is one whose backslash is not itself escaped (the text
   * {@code "C:\u005c\u005cu0000"} is the string C, colon, backslash, u0000, and holds none).
   */
  static boolean hasNul(String json) {
    for (int i = json.indexOf("\\u0000"); i >= 0; i = json.indexOf("\\u0000", i + 1)) {
      int backslashes = 0;
      for (int j = i; j >= 0 && json.charAt(j) == '\\'; j--) {
        backslashes++;
      }
      if (backslashes % 2 == 1) {
        return true;
      }
    }
    return false;
  }
}
