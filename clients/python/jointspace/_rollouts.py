"""RolloutService: move a collection to another model version."""

from __future__ import annotations

from datetime import timedelta
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import grpc

from ._base import Base
from ._convert import InputLike, enum_value, model_spec, to_duration, to_input
from ._gen.jointspace.v1 import rollout_service_pb2 as pb
from .errors import from_rpc_error

RolloutState = pb.Rollout.State
"""Rollout states: ``RolloutState.READY``, ``RolloutState.Name(rollout.state)``."""

_ENDED = (RolloutState.FINALIZED, RolloutState.ABORTED, RolloutState.FAILED)


class Rollouts(Base):
    def start_rollout(
        self,
        collection: str,
        version: Optional[int] = None,
        *,
        label: Optional[str] = None,
        model: Optional[str] = None,
        unembeddable: Union[str, int] = 0,
        rate_limit: float = 0.0,
        finalize_after: Union[float, timedelta, None] = None,
        dry_run: bool = False,
        timeout: Optional[float] = None,
    ) -> pb.Rollout:
        """Starts re-embedding a collection with another version of its model (or of
        ``model``): ``version``, ``label``, or neither for the newest available one.

        ``unembeddable``: what to do with items that have no source: "FAIL", "DROP" or
        "KEEP_IN_OLD". ``rate_limit``: items per second over all servers (0: none).
        ``finalize_after``: seconds after the promote to finalize by itself.
        ``dry_run``: only check and report.
        """
        if model is None:
            model = self.get_collection(collection, timeout=timeout).model.name
        request = pb.StartRolloutRequest(
            collection=collection,
            target=model_spec(model, version, label),
            unembeddable=enum_value(pb.UnembeddablePolicy, unembeddable, "UNEMBEDDABLE_"),
            rate_limit=rate_limit,
            finalize_after=to_duration(finalize_after),
            dry_run=dry_run,
        )
        return self._unary(self._rollouts.StartRollout, request, timeout)

    def get_rollout(self, collection: str, rollout_id: int = 0, *,
                    timeout: Optional[float] = None) -> pb.Rollout:
        """The collection's open rollout, else its newest (or the one ``rollout_id`` names)."""
        request = pb.GetRolloutRequest(collection=collection, rollout_id=rollout_id)
        return self._unary(self._rollouts.GetRollout, request, timeout)

    def list_rollouts(self, collection: str = "", *, timeout: Optional[float] = None) -> List[pb.Rollout]:
        """Every rollout of a collection (or of all), newest first."""
        request = pb.ListRolloutsRequest(collection=collection)
        return list(self._unary(self._rollouts.ListRollouts, request, timeout).rollouts)

    def watch_rollout(self, collection: str, rollout_id: int = 0, *,
                      timeout: Optional[float] = None) -> Iterator[pb.Rollout]:
        """The rollout now, then again each time its state or progress changes, until it is
        FINALIZED or ABORTED. Stop iterating to end the call. ``timeout`` bounds the whole
        watch; by default it has none."""
        request = pb.GetRolloutRequest(collection=collection, rollout_id=rollout_id)
        call = self._rollouts.WatchRollout(request, timeout=timeout)
        try:
            yield from call
        except grpc.RpcError as error:
            raise from_rpc_error(error, request.DESCRIPTOR) from None
        finally:
            call.cancel()

    def wait_for_rollout(self, collection: str, states: Iterable[Union[str, int]] = ("READY",),
                         rollout_id: int = 0, *, timeout: Optional[float] = None) -> pb.Rollout:
        """Watches the rollout until it reaches one of ``states``, or ends (FINALIZED,
        ABORTED, FAILED), and returns it then: check its ``state``."""
        wanted = {enum_value(RolloutState, state) for state in states}
        rollout = None
        for rollout in self.watch_rollout(collection, rollout_id, timeout=timeout):
            if rollout.state in wanted or rollout.state in _ENDED:
                break
        return rollout

    def pause_rollout(self, collection: str, rollout_id: int = 0, *,
                      timeout: Optional[float] = None) -> pb.Rollout:
        """Stops the backfill; writes still go to both versions."""
        return self._step(self._rollouts.PauseRollout, collection, rollout_id, timeout)

    def resume_rollout(self, collection: str, rollout_id: int = 0, *,
                       timeout: Optional[float] = None) -> pb.Rollout:
        """Continues a paused backfill, or retries the failed items of a FAILED one."""
        return self._step(self._rollouts.ResumeRollout, collection, rollout_id, timeout)

    def promote(self, collection: str, rollout_id: int = 0, *,
                timeout: Optional[float] = None) -> pb.Rollout:
        """READY or ROLLED_BACK -> PROMOTED: the target becomes the collection's version."""
        return self._step(self._rollouts.PromoteRollout, collection, rollout_id, timeout)

    def rollback(self, collection: str, rollout_id: int = 0, *,
                 timeout: Optional[float] = None) -> pb.Rollout:
        """PROMOTED -> ROLLED_BACK: back to the old version, with every write since."""
        return self._step(self._rollouts.RollbackRollout, collection, rollout_id, timeout)

    def finalize(self, collection: str, rollout_id: int = 0, *,
                 timeout: Optional[float] = None) -> pb.Rollout:
        """PROMOTED -> FINALIZED: drops the old version's table."""
        return self._step(self._rollouts.FinalizeRollout, collection, rollout_id, timeout)

    def abort(self, collection: str, rollout_id: int = 0, *,
              timeout: Optional[float] = None) -> pb.Rollout:
        """Any open state but PROMOTED -> ABORTED: drops the target's table."""
        return self._step(self._rollouts.AbortRollout, collection, rollout_id, timeout)

    def evaluate_rollout(
        self,
        collection: str,
        rollout_id: int = 0,
        *,
        sample_size: int = 0,
        k: int = 0,
        queries: Sequence[Tuple[InputLike, Sequence[str]]] = (),
        class_key: str = "",
        class_template: str = "",
        timeout: Optional[float] = None,
    ) -> pb.Evaluation:
        """Compares the two versions of a rollout whose backfill is done.

        ``queries``: (query, expected ids) pairs for recall@k, a query being a text
        (``str``) or an image (bytes or ``pathlib.Path``). ``class_key``: a metadata key
        holding each item's class, for zero-shot accuracy and precision@k per version.
        """
        request = pb.EvaluateRolloutRequest(
            collection=collection,
            rollout_id=rollout_id,
            sample_size=sample_size,
            k=k,
            queries=[pb.LabeledQuery(query=to_input(q), expected_ids=list(ids)) for q, ids in queries],
            class_key=class_key,
            class_template=class_template,
        )
        return self._unary(self._rollouts.EvaluateRollout, request, timeout)

    def _step(self, method, collection: str, rollout_id: int, timeout: Optional[float]) -> pb.Rollout:
        return self._unary(method, pb.RolloutRequest(collection=collection, rollout_id=rollout_id), timeout)
