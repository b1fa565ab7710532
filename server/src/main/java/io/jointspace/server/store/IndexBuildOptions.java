package io.jointspace.server.store;

/**
 * How HNSW indexes are built after bulk loads and rollout backfills ({@link IndexBuilds}).
 *
 * @param memoryMb {@code maintenance_work_mem} of an index build, in MiB
 *     ({@code storage.index_build_memory_mb}, default {@value #DEFAULT_MEMORY_MB}): the HNSW
 *     graph should fit, or the build slows down once it no longer does
 * @param bulkLoadMaxRows an UpsertStream into a collection holding fewer items than this loads
 *     without the HNSW index and builds it once at the end ({@code storage.bulk_load_max_rows},
 *     default {@value #DEFAULT_BULK_LOAD_MAX_ROWS}); 0 never does
 */
public record IndexBuildOptions(int memoryMb, long bulkLoadMaxRows) {
  public static final int DEFAULT_MEMORY_MB = 1024;
  public static final long DEFAULT_BULK_LOAD_MAX_ROWS = 10_000;
  public static final IndexBuildOptions DEFAULT = new IndexBuildOptions(DEFAULT_MEMORY_MB, DEFAULT_BULK_LOAD_MAX_ROWS);

  public IndexBuildOptions {
    if (memoryMb < 1 || memoryMb > 2_000_000) {
      throw new IllegalArgumentException("index_build_memory_mb must be within 1..2000000, got " + memoryMb);
    }
    if (bulkLoadMaxRows < 0) {
      throw new IllegalArgumentException("bulk_load_max_rows must not be negative, got " + bulkLoadMaxRows);
    }
  }
}
