import { Filter as FilterMessage } from "./gen/jointspace/v1/collection_service";

/** A value a condition compares with: JSON's (a string, number, boolean or null). */
export type FilterValue = string | number | boolean | null;

/** Bounds of a range: numbers, or strings (compared in byte order); at least one. */
export interface Bounds {
  gt?: number | string;
  gte?: number | string;
  lt?: number | string;
  lte?: number | string;
}

/**
 * A condition on item metadata, for `search`:
 *
 * ```ts
 * Filter.eq("color", "blue").and(Filter.range("n", { gte: 10 }))
 * Filter.in("shape", ["star", "circle"]).or(Filter.exists("draft").not())
 * ```
 *
 * Keys may be dotted paths into nested metadata ("info.author"). `and` and `or` of several
 * conditions are flattened into one list. Immutable.
 */
export class Filter {
  /** The condition as SearchRequest.filter takes it. */
  readonly message: FilterMessage;

  private constructor(message: FilterMessage) {
    this.message = message;
  }

  /** metadata[key] equals value (JSON equality: 3 equals 3.0, "3" does not). */
  static eq(key: string, value: FilterValue): Filter {
    return Filter.of({ equals: { key, value: checked(value) } });
  }

  /** metadata[key] does not equal value, or is missing. */
  static ne(key: string, value: FilterValue): Filter {
    return Filter.eq(key, value).not();
  }

  /** metadata[key] equals one of values (at least one). */
  static in(key: string, values: readonly FilterValue[]): Filter {
    if (values.length === 0) throw new TypeError("Filter.in needs at least one value");
    return Filter.of({ in: { key, values: values.map(checked) } });
  }

  /** metadata[key] within the bounds given: `Filter.range("n", { gte: 10, lt: 20 })`. */
  static range(key: string, bounds: Bounds): Filter {
    const { gt, gte, lt, lte } = bounds;
    if (gt === undefined && gte === undefined && lt === undefined && lte === undefined) {
      throw new TypeError("Filter.range needs at least one of gt, gte, lt, lte");
    }
    return Filter.of({ range: { key, gt: bound(gt), gte: bound(gte), lt: bound(lt), lte: bound(lte) } });
  }

  static gt(key: string, bound: number | string): Filter {
    return Filter.range(key, { gt: bound });
  }

  static gte(key: string, bound: number | string): Filter {
    return Filter.range(key, { gte: bound });
  }

  static lt(key: string, bound: number | string): Filter {
    return Filter.range(key, { lt: bound });
  }

  static lte(key: string, bound: number | string): Filter {
    return Filter.range(key, { lte: bound });
  }

  /** lower <= metadata[key] <= upper. */
  static between(key: string, lower: number | string, upper: number | string): Filter {
    return Filter.range(key, { gte: lower, lte: upper });
  }

  /** The metadata has `key`, with any value (null included). */
  static exists(key: string): Filter {
    return Filter.of({ exists: key });
  }

  /** Every one of `filters` (at least one). */
  static all(...filters: Filter[]): Filter {
    return Filter.join("and", filters);
  }

  /** At least one of `filters` (at least one). */
  static any(...filters: Filter[]): Filter {
    return Filter.join("or", filters);
  }

  and(...others: Filter[]): Filter {
    return Filter.join("and", [this, ...others]);
  }

  or(...others: Filter[]): Filter {
    return Filter.join("or", [this, ...others]);
  }

  /** The condition does not hold (`not` of a `not` is the condition itself). */
  not(): Filter {
    return this.message.not !== undefined ? new Filter(this.message.not) : Filter.of({ not: this.message });
  }

  toJSON(): unknown {
    return FilterMessage.toJSON(this.message);
  }

  toString(): string {
    return JSON.stringify(this.toJSON());
  }

  private static of(condition: Partial<FilterMessage>): Filter {
    return new Filter(FilterMessage.fromPartial(condition));
  }

  private static join(kind: "and" | "or", filters: readonly Filter[]): Filter {
    if (filters.length === 0) throw new TypeError(`Filter.${kind === "and" ? "all" : "any"} needs at least one filter`);
    const parts: FilterMessage[] = [];
    for (const filter of filters) {
      if (!(filter instanceof Filter)) throw new TypeError("combine Filters with Filters");
      const same = filter.message[kind];
      if (same !== undefined) parts.push(...same.filters);
      else parts.push(filter.message);
    }
    return Filter.of({ [kind]: { filters: parts } });
  }
}

function checked(value: FilterValue): FilterValue {
  const type = typeof value;
  if (value === null || type === "string" || type === "boolean" || (type === "number" && Number.isFinite(value))) {
    return value;
  }
  throw new TypeError(`a filter value is a string, finite number, boolean or null, not ${String(value)}`);
}

function bound(value: number | string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" || (typeof value === "number" && Number.isFinite(value))) return value;
  throw new TypeError(`a range bound is a finite number or a string, not ${String(value)}`);
}
