"""TLS options of the client against an in-process gRPC server that requires client
certificates (mTLS), with a CA and certificates made by the openssl command line."""

import shutil
import subprocess
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from jointspace import Client, Unavailable
from jointspace._gen.jointspace.v1 import embedding_service_pb2 as embedding_pb, embedding_service_pb2_grpc

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def issue(folder: Path, ca: str, name: str, *extensions: str) -> None:
    """name.key and name.crt, signed by ca.key/ca.crt."""
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key",
            "-subj", f"/CN={name}", "-out", f"{name}.csr", cwd=folder)
    ext = folder / f"{name}.ext"
    ext.write_text("\n".join(extensions) + "\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-days", "1", "-extfile", ext.name, "-out", f"{name}.crt", cwd=folder)


def make_ca(folder: Path, name: str) -> None:
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.crt", cwd=folder)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pki")
    make_ca(folder, "ca")
    make_ca(folder, "other-ca")
    issue(folder, "ca", "server", "subjectAltName = IP:127.0.0.1, DNS:localhost")
    issue(folder, "ca", "client", "extendedKeyUsage = clientAuth")
    issue(folder, "other-ca", "stranger", "extendedKeyUsage = clientAuth")
    return folder


class Embeddings(embedding_service_pb2_grpc.EmbeddingServiceServicer):
    def Embed(self, request, context):
        return embedding_pb.EmbedResponse(dimension=1, embeddings=[embedding_pb.Embedding(values=[1.0])])


@pytest.fixture(scope="module")
def address(pki: Path):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    embedding_service_pb2_grpc.add_EmbeddingServiceServicer_to_server(Embeddings(), server)
    credentials = grpc.ssl_server_credentials(
        [((pki / "server.key").read_bytes(), (pki / "server.crt").read_bytes())],
        root_certificates=(pki / "ca.crt").read_bytes(), require_client_auth=True)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(None)


def test_client_certificate_from_the_servers_ca_is_accepted(pki, address):
    with Client(address, timeout=10, tls_ca=pki / "ca.crt", tls_cert=pki / "client.crt",
                tls_key=str(pki / "client.key")) as client:
        assert client.embed(texts=["x"]) == [[1.0]]


@pytest.mark.parametrize("options", [
    {"tls_ca": "ca.crt"},
    {"tls_ca": "ca.crt", "tls_cert": "stranger.crt", "tls_key": "stranger.key"},
    {"tls_ca": "other-ca.crt", "tls_cert": "client.crt", "tls_key": "client.key"},
])
def test_without_the_right_certificates_the_call_fails(pki, address, options):
    with Client(address, timeout=10, retry_attempts=1, **{k: pki / v for k, v in options.items()}) as client:
        with pytest.raises(Unavailable):
            client.embed(texts=["x"])


def test_tls_options_are_checked():
    with pytest.raises(ValueError, match="tls_cert and tls_key"):
        Client("127.0.0.1:1", tls_cert="client.crt")
    with pytest.raises(ValueError, match="not both"):
        Client("127.0.0.1:1", tls_ca="ca.crt", credentials=grpc.ssl_channel_credentials())
