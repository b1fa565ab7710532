package io.jointspace.trainer;

/**
 * Architecture of one shapes-clip version.
 *
 * @param dimension embedding dimension of both towers
 * @param conv channels of the four 3x3 convolutions of the image tower
 * @param hidden width of the hidden dense layer of the image tower's form stream
 * @param colorHidden width of the hidden dense layer of the image tower's color stream
 * @param tokenWidth width of the token embeddings of the text tower
 * @param imageSize side of the square input images
 * @param contextLength token ids per text
 */
public record ModelConfig(int dimension, int[] conv, int hidden, int colorHidden, int tokenWidth, int imageSize, int contextLength) {

  public ModelConfig {
    if (conv.length != 4) {
      throw new IllegalArgumentException("conv: four channel counts expected, got " + conv.length);
    }
    if (imageSize % 32 != 0) {
      throw new IllegalArgumentException("imageSize must be a multiple of 32, got " + imageSize);
    }
  }
}
