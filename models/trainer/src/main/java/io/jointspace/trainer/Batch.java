package io.jointspace.trainer;

/**
 * One training step's inputs, flattened row-major.
 *
 * @param size scenes in the batch (n)
 * @param pixels [n, S, S, 3] normalized pixels
 * @param ids [n, L] token ids of one sampled description per scene
 * @param mask [n, L] attention mask
 * @param imageTargets [n, n]: row i spreads probability 1 evenly over the texts true of image i
 * @param textTargets [n, n]: row j spreads probability 1 evenly over the images text j is true of
 */
record Batch(int size, float[] pixels, int[] ids, int[] mask, float[] imageTargets, float[] textTargets) {}
