package io.jointspace.client.cli;

import io.jointspace.client.Filter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code --filter} expressions: {@code color = blue and n >= 10}, {@code shape in (star,
 * circle)}, {@code not (a = 1 or exists b)}. Comparisons {@code = != < <= > >=}; values are
 * numbers, {@code true}/{@code false}/{@code null}, quoted strings ("a b" or 'a b'), or bare
 * words (strings); {@code and} binds tighter than {@code or}.
 */
final class FilterExpression {
  private static final Pattern TOKEN = Pattern.compile(
      "\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|<=|>=|!=|[=<>(),]|[^\\s=<>!(),'\"]+)");
  private static final Pattern NUMBER = Pattern.compile("-?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?");
  private final List<String> tokens = new ArrayList<>();
  private int at;

  private FilterExpression(String text) {
    Matcher m = TOKEN.matcher(text);
    int end = 0;
    while (m.find() && m.start() == end) {
      tokens.add(m.group(1));
      end = m.end();
    }
    if (!text.substring(end).isBlank()) {
      throw new IllegalArgumentException("--filter: cannot read '" + text.substring(end).trim() + "'");
    }
  }

  static Filter parse(String text) {
    FilterExpression p = new FilterExpression(text);
    Filter f = p.or();
    if (p.at < p.tokens.size()) {
      throw new IllegalArgumentException("--filter: unexpected '" + p.tokens.get(p.at) + "'");
    }
    return f;
  }

  private Filter or() {
    Filter f = and();
    while (word("or")) {
      f = f.or(and());
    }
    return f;
  }

  private Filter and() {
    Filter f = unary();
    while (word("and")) {
      f = f.and(unary());
    }
    return f;
  }

  private Filter unary() {
    if (word("not")) {
      return unary().not();
    }
    if (symbol("(")) {
      Filter f = or();
      expect(")");
      return f;
    }
    if (word("exists")) {
      return Filter.exists(next("a key after 'exists'"));
    }
    String key = next("a key");
    String op = next("an operator after '" + key + "'");
    if (op.equalsIgnoreCase("in")) {
      expect("(");
      List<Object> values = new ArrayList<>();
      do {
        values.add(value(next("a value")));
      } while (symbol(","));
      expect(")");
      return Filter.in(key, values.toArray());
    }
    Object value = value(next("a value after '" + key + " " + op + "'"));
    return switch (op) {
      case "=" -> Filter.eq(key, value);
      case "!=" -> Filter.ne(key, value);
      case "<" -> Filter.lt(key, value);
      case "<=" -> Filter.lte(key, value);
      case ">" -> Filter.gt(key, value);
      case ">=" -> Filter.gte(key, value);
      default -> throw new IllegalArgumentException("--filter: '" + op + "' is not an operator (= != < <= > >= in)");
    };
  }

  private static Object value(String token) {
    if (token.length() >= 2 && (token.startsWith("\"") || token.startsWith("'"))) {
      return token.substring(1, token.length() - 1).replaceAll("\\\\(.)", "$1");
    }
    switch (token) {
      case "true":
        return true;
      case "false":
        return false;
      case "null":
        return null;
      default:
        break;
    }
    return NUMBER.matcher(token).matches() ? (Object) Double.parseDouble(token) : token;
  }

  private boolean word(String w) {
    if (at < tokens.size() && tokens.get(at).equalsIgnoreCase(w)) {
      at++;
      return true;
    }
    return false;
  }

  private boolean symbol(String s) {
    if (at < tokens.size() && tokens.get(at).equals(s)) {
      at++;
      return true;
    }
    return false;
  }

  private void expect(String s) {
    if (!symbol(s)) {
      throw new IllegalArgumentException("--filter: expected '" + s + "'"
          + (at < tokens.size() ? " at '" + tokens.get(at) + "'" : " at the end"));
    }
  }

  private String next(String what) {
    if (at >= tokens.size()) {
      throw new IllegalArgumentException("--filter: expected " + what + " at the end");
    }
    return tokens.get(at++);
  }
}
