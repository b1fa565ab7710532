package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TfRecordFileTest {
  @TempDir Path dir;

  static List<byte[]> readAll(Path file) throws IOException {
    List<byte[]> out = new ArrayList<>();
    try (TfRecordFile.Reader r = TfRecordFile.open(file)) {
      for (byte[] b = r.next(); b != null; b = r.next()) {
        out.add(b);
      }
    }
    return out;
  }

  @Test
  void crc32c_isCastagnoli_withTheStandardCheckValue() {
    // the CRC-32C check value (RFC 3720, B.4): "123456789" -> 0xE3069283
    CRC32C crc = new CRC32C();
    crc.update("123456789".getBytes(StandardCharsets.US_ASCII));
    assertThat(crc.getValue()).isEqualTo(0xE3069283L);
    // TFRecord's mask: rotate right by 15, add 0xa282ead8
    int c = 0xE3069283;
    assertThat(TfRecordFile.maskedCrc("123456789".getBytes(StandardCharsets.US_ASCII), 0, 9))
        .isEqualTo(((c >>> 15) | (c << 17)) + 0xa282ead8);
  }

  @Test
  void writtenRecords_readBackInOrder_withTheDocumentedLayout() throws Exception {
    Path file = dir.resolve("f");
    byte[] a = "first".getBytes(StandardCharsets.UTF_8);
    byte[] empty = new byte[0];
    byte[] big = new byte[200_000];
    Arrays.fill(big, (byte) 7);
    TfRecordFile.write(file, List.of(a, empty, big));
    assertThat(readAll(file)).containsExactly(a, empty, big);
    // 8 length bytes + 4 + data + 4 per record
    assertThat(Files.size(file)).isEqualTo(3 * 16 + a.length + big.length);
    byte[] raw = Files.readAllBytes(file);
    assertThat(raw[0]).isEqualTo((byte) a.length);
    assertThat(Arrays.copyOfRange(raw, 12, 12 + a.length)).isEqualTo(a);
  }

  @Test
  void aFlippedDataByte_isRefusedAsCorrupt_namingTheRecord() throws Exception {
    Path file = dir.resolve("f");
    TfRecordFile.write(file, List.of(new byte[] {1, 2, 3}, new byte[] {4, 5, 6}));
    byte[] raw = Files.readAllBytes(file);
    raw[19 + 12] ^= 1; // the second record's first data byte
    Files.write(file, raw);
    assertThatThrownBy(() -> readAll(file)).isInstanceOf(IOException.class)
        .hasMessageContaining("record 1").hasMessageContaining("checksum of its data");
  }

  @Test
  void aFlippedLengthByte_isRefused() throws Exception {
    Path file = dir.resolve("f");
    TfRecordFile.write(file, List.<byte[]>of(new byte[] {1, 2, 3}));
    byte[] raw = Files.readAllBytes(file);
    raw[0] = 2;
    Files.write(file, raw);
    assertThatThrownBy(() -> readAll(file)).isInstanceOf(IOException.class)
        .hasMessageContaining("record 0").hasMessageContaining("checksum of its length");
  }

  @Test
  void aTruncatedFile_isRefused() throws Exception {
    Path file = dir.resolve("f");
    TfRecordFile.write(file, List.<byte[]>of(new byte[100]));
    byte[] raw = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(raw, raw.length - 10));
    assertThatThrownBy(() -> readAll(file)).isInstanceOf(IOException.class).hasMessageContaining("record 0");
  }
}
