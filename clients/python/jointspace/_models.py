"""ModelService (models, versions, labels) and the server's readiness."""

from __future__ import annotations

from typing import List, Mapping, Optional

from ._base import Base
from ._convert import model_spec
from ._gen.inference import grpc_predict_v2_pb2 as inference_pb
from ._gen.jointspace.v1 import model_service_pb2 as pb


class Models(Base):
    def list_models(self, *, timeout: Optional[float] = None) -> List[pb.ModelSummary]:
        """Every model the server knows, with its versions (newest first) and labels."""
        return list(self._unary(self._models.ListModels, pb.ListModelsRequest(), timeout).models)

    def model_status(self, name: str, version: int = 0, *,
                     timeout: Optional[float] = None) -> pb.GetModelStatusResponse:
        """The state of every version of a model (or of one), and its labels."""
        request = pb.GetModelStatusRequest(name=name, version=version)
        return self._unary(self._models.GetModelStatus, request, timeout)

    def model_metadata(self, name: str, version: Optional[int] = None, label: Optional[str] = None, *,
                       timeout: Optional[float] = None) -> pb.GetModelMetadataResponse:
        """Signatures, tags, embedding dimension and encoder spec of an available version."""
        request = pb.GetModelMetadataRequest(model=model_spec(name, version, label))
        return self._unary(self._models.GetModelMetadata, request, timeout)

    def set_label(
        self,
        model: str,
        label: str,
        version: Optional[int] = None,
        *,
        split: Optional[Mapping[int, int]] = None,
        allow_loading: bool = False,
        changed_by: str = "",
        timeout: Optional[float] = None,
    ) -> pb.LabelChange:
        """Points ``label`` at one version, or splits it by weight (``split={2: 90, 3: 10}``)."""
        if (version is None) == (split is None):
            raise ValueError("give exactly one of version and split")
        request = pb.SetLabelRequest(model=model, label=label, allow_loading=allow_loading,
                                     changed_by=changed_by)
        if version is not None:
            request.version = version
        else:
            request.split.weights.update(split)
        return self._unary(self._models.SetLabel, request, timeout)

    def delete_label(self, model: str, label: str, *, changed_by: str = "",
                     timeout: Optional[float] = None) -> pb.LabelChange:
        """Removes a label (a configured one too; the removal is recorded)."""
        request = pb.DeleteLabelRequest(model=model, label=label, changed_by=changed_by)
        return self._unary(self._models.DeleteLabel, request, timeout)

    def label_history(self, model: str, label: str = "", *,
                      timeout: Optional[float] = None) -> List[pb.LabelChange]:
        """Every recorded change of a model's labels (or of one label), oldest first."""
        request = pb.ListLabelHistoryRequest(model=model, label=label)
        return list(self._unary(self._models.ListLabelHistory, request, timeout).changes)

    def server_ready(self, *, timeout: Optional[float] = None) -> bool:
        """Whether every model the server knows has an available version (KServe ServerReady)."""
        return self._unary(self._inference.ServerReady, inference_pb.ServerReadyRequest(), timeout).ready
