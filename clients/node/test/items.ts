/** Items the collection tests write. */
import type { Item } from "../src";

const COLORS = ["red", "green", "blue", "yellow", "purple"];
const SHAPES = ["star", "circle", "triangle", "square", "hexagon"];

/** Items "a {color} {shape}" with their color, shape and index as metadata. */
export function* captions(count: number): Generator<Item> {
  for (let n = 0; n < count; n++) {
    const color = COLORS[Math.floor(n / SHAPES.length) % COLORS.length];
    const shape = SHAPES[n % SHAPES.length];
    yield { id: `item-${String(n).padStart(4, "0")}`, text: `a ${color} ${shape}`, metadata: { color, shape, n } };
  }
}

export class Interrupted extends Error {}

/** The first `count` items, then an Interrupted error. */
export async function* failingAfter(items: Iterable<Item>, count: number): AsyncGenerator<Item> {
  let n = 0;
  for (const item of items) {
    if (n++ === count) throw new Interrupted(`stopped after ${count} items`);
    yield item;
  }
}
