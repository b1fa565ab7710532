package io.jointspace.trainer;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Area;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic source of captioned synthetic scenes: one shape of a given color, kind,
 * size and position on a plain background, with random background color (never close to
 * the shape's), rotation, position and size jitter, and pixel noise.
 *
 * <p>The same seed, split and size give the same scenes in the same order, and
 * {@link #render(Scene)} draws the same pixels for the same scene. Not thread-safe: one
 * generator per thread.
 */
public final class SceneGenerator {
  /** Smallest Euclidean RGB distance between the shape color and the background. */
  static final double MIN_CONTRAST = 110;
  private static final double MAX_ROTATION = Math.toRadians(30);
  private static final double MAX_SHIFT = 3.0 / 64;

  private final SplittableRandom rng;
  private final List<Combo> combos;
  private final int width;
  private final int height;

  public SceneGenerator(long seed, Split split, int width, int height) {
    this.rng = new SplittableRandom(seed);
    this.combos = Combo.all().stream().filter(split::admits).toList();
    this.width = width;
    this.height = height;
  }

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  /** The next random scene of this generator's split. */
  public Scene next() {
    Combo combo = combos.get(rng.nextInt(combos.size()));
    return next(combo);
  }

  /** The next random scene showing {@code combo} (any split). */
  public Scene next(Combo combo) {
    ShapeSize size = ShapeSize.values()[rng.nextInt(ShapeSize.values().length)];
    Position position = Position.values()[rng.nextInt(Position.values().length)];
    int shapeRgb = jitter(combo.color().rgb(), 14);
    int background = background(shapeRgb);
    double rotation = (rng.nextDouble() * 2 - 1) * MAX_ROTATION;
    double dx = (rng.nextDouble() * 2 - 1) * MAX_SHIFT;
    double dy = (rng.nextDouble() * 2 - 1) * MAX_SHIFT;
    double scale = 0.9 + 0.2 * rng.nextDouble();
    int noise = rng.nextInt(13);
    return new Scene(combo.color(), combo.shape(), size, position, shapeRgb, background,
        rotation, dx, dy, scale, noise, rng.nextLong());
  }

  /** {@code n} scenes from {@link #next()}. */
  public List<Scene> next(int n) {
    List<Scene> scenes = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      scenes.add(next());
    }
    return scenes;
  }

  /** Draws {@code scene} into a new TYPE_INT_RGB image of this generator's size. */
  public BufferedImage render(Scene scene) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
      g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
      g.setColor(new Color(scene.backgroundRgb()));
      g.fillRect(0, 0, width, height);
      double side = Math.min(width, height);
      double r = scene.size().radius() * side * scene.scale();
      double cx = (scene.position().x() + scene.dx()) * width;
      double cy = (scene.position().y() + scene.dy()) * height;
      AffineTransform at = new AffineTransform();
      at.translate(cx, cy);
      at.rotate(scene.rotation());
      g.setColor(new Color(scene.shapeRgb()));
      g.setStroke(new BasicStroke(1f));
      g.fill(at.createTransformedShape(outline(scene.shape(), r)));
    } finally {
      g.dispose();
    }
    addNoise(image, scene.noise(), scene.noiseSeed());
    return image;
  }

  /** The shape centered on the origin, circumscribed radius {@code r}. */
  static Shape outline(ShapeKind kind, double r) {
    return switch (kind) {
      case CIRCLE -> new Ellipse2D.Double(-r * 0.9, -r * 0.9, r * 1.8, r * 1.8);
      case SQUARE -> {
        double h = r * 0.75;
        yield new Rectangle2D.Double(-h, -h, 2 * h, 2 * h);
      }
      case TRIANGLE -> polygon(3, r, r, -Math.PI / 2);
      case STAR -> polygon(5, r, r * 0.42, -Math.PI / 2);
      case HEXAGON -> polygon(6, r * 0.95, r * 0.95, 0);
      case CROSS -> {
        double arm = r * 0.9;
        double half = r * 0.3;
        Area a = new Area(new Rectangle2D.Double(-arm, -half, 2 * arm, 2 * half));
        a.add(new Area(new Rectangle2D.Double(-half, -arm, 2 * half, 2 * arm)));
        yield a;
      }
    };
  }

  /** A regular polygon ({@code outer == inner}) or a star with {@code points} tips. */
  private static Shape polygon(int points, double outer, double inner, double start) {
    Path2D.Double p = new Path2D.Double();
    boolean star = outer != inner;
    int corners = star ? points * 2 : points;
    for (int i = 0; i < corners; i++) {
      double radius = star && i % 2 == 1 ? inner : outer;
      double angle = start + 2 * Math.PI * i / corners;
      double x = radius * Math.cos(angle);
      double y = radius * Math.sin(angle);
      if (i == 0) {
        p.moveTo(x, y);
      } else {
        p.lineTo(x, y);
      }
    }
    p.closePath();
    return p;
  }

  /** Gray, muted or any color, redrawn until it is at least {@link #MIN_CONTRAST} from the shape. */
  private int background(int shapeRgb) {
    while (true) {
      double kind = rng.nextDouble();
      int rgb;
      if (kind < 0.4) {
        int v = rng.nextInt(256);
        rgb = (v << 16) | (v << 8) | v;
      } else if (kind < 0.8) {
        float hue = (float) rng.nextDouble();
        float sat = (float) (rng.nextDouble() * 0.35);
        float bri = (float) (0.15 + rng.nextDouble() * 0.85);
        rgb = Color.HSBtoRGB(hue, sat, bri) & 0xFFFFFF;
      } else {
        rgb = rng.nextInt(1 << 24);
      }
      if (distance(rgb, shapeRgb) >= MIN_CONTRAST) {
        return rgb;
      }
    }
  }

  static double distance(int a, int b) {
    int dr = ((a >> 16) & 0xFF) - ((b >> 16) & 0xFF);
    int dg = ((a >> 8) & 0xFF) - ((b >> 8) & 0xFF);
    int db = (a & 0xFF) - (b & 0xFF);
    return Math.sqrt(dr * dr + dg * dg + db * db);
  }

  private int jitter(int rgb, int amount) {
    int r = clamp(((rgb >> 16) & 0xFF) + rng.nextInt(-amount, amount + 1));
    int g = clamp(((rgb >> 8) & 0xFF) + rng.nextInt(-amount, amount + 1));
    int b = clamp((rgb & 0xFF) + rng.nextInt(-amount, amount + 1));
    return (r << 16) | (g << 8) | b;
  }

  private static void addNoise(BufferedImage image, int amplitude, long seed) {
    if (amplitude == 0) {
      return;
    }
    SplittableRandom noise = new SplittableRandom(seed);
    int w = image.getWidth();
    int h = image.getHeight();
    int[] px = image.getRGB(0, 0, w, h, null, 0, w);
    int span = 2 * amplitude + 1;
    for (int i = 0; i < px.length; i++) {
      int p = px[i];
      int r = clamp(((p >> 16) & 0xFF) + noise.nextInt(span) - amplitude);
      int g = clamp(((p >> 8) & 0xFF) + noise.nextInt(span) - amplitude);
      int b = clamp((p & 0xFF) + noise.nextInt(span) - amplitude);
      px[i] = (r << 16) | (g << 8) | b;
    }
    image.setRGB(0, 0, w, h, px, 0, w);
  }

  private static int clamp(int v) {
    return Math.max(0, Math.min(255, v));
  }
}
