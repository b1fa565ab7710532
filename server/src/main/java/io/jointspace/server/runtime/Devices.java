package io.jointspace.server.runtime;

import static org.tensorflow.internal.c_api.global.tensorflow.TF_CloseSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteDeviceList;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteGraph;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteStatus;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListCount;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListMemoryBytes;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListName;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListType;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_GetCode;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_Message;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewGraph;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewStatus;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_OK;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SessionListDevices;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.TensorFlow;
import org.tensorflow.internal.c_api.TF_DeviceList;
import org.tensorflow.internal.c_api.TF_Graph;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;

/** The devices TensorFlow runs on in this process, as a session sees them. */
public final class Devices {
  static {
    NativeMemory.configure(); // before TensorFlow's first use
  }

  private Devices() {}

  /** One device: its type ({@code CPU}, {@code GPU}), full name and memory. */
  public record Device(String type, String name, long memoryBytes) {}

  /** The devices a new session may place work on. */
  public static List<Device> list() {
    TF_Status status = TF_NewStatus();
    TF_Graph graph = TF_NewGraph();
    TF_SessionOptions options = TF_NewSessionOptions();
    try {
      TF_Session session = TF_NewSession(graph, options, status);
      check(status);
      try {
        TF_DeviceList devices = TF_SessionListDevices(session, status);
        check(status);
        try {
          List<Device> out = new ArrayList<>();
          for (int i = 0; i < TF_DeviceListCount(devices); i++) {
            out.add(new Device(TF_DeviceListType(devices, i, status).getString(),
                TF_DeviceListName(devices, i, status).getString(), TF_DeviceListMemoryBytes(devices, i, status)));
            check(status);
          }
          return out;
        } finally {
          TF_DeleteDeviceList(devices);
        }
      } finally {
        TF_CloseSession(session, status);
        TF_DeleteSession(session, status);
      }
    } finally {
      TF_DeleteSessionOptions(options);
      TF_DeleteGraph(graph);
      TF_DeleteStatus(status);
    }
  }

  /** One line for the start-up log: the TensorFlow version and whether it runs on CPU or GPU. */
  public static String describe() {
    List<Device> gpus = list().stream().filter(d -> d.type().equals("GPU")).toList();
    if (gpus.isEmpty()) {
      return "TensorFlow " + TensorFlow.version() + " on CPU (no GPU visible)";
    }
    StringBuilder s = new StringBuilder("TensorFlow " + TensorFlow.version() + " on GPU: ");
    for (int i = 0; i < gpus.size(); i++) {
      Device d = gpus.get(i);
      s.append(i == 0 ? "" : ", ").append(d.name().substring(d.name().lastIndexOf("/device:") + 1))
          .append(" (").append(d.memoryBytes() >> 20).append(" MiB)");
    }
    return s.toString();
  }

  private static void check(TF_Status status) {
    if (TF_GetCode(status) != TF_OK) {
      throw new IllegalStateException("TensorFlow could not list its devices: " + TF_Message(status).getString());
    }
  }
}
