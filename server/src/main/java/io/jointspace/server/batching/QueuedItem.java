package io.jointspace.server.batching;

/**
 * One item waiting in a {@link Bucket}: the value, the request it belongs to and its position
 * there, its length (0 when the queue has no length buckets), and when it was queued (in
 * {@link Ticker} nanoseconds).
 */
record QueuedItem<I, O>(Request<O> request, int index, I value, int length, long enqueuedNanos) {}
