"""A rollout of a small collection from shapes-clip 1 (32 dimensions) to 2 (64)."""

from conftest import SAMPLES
from jointspace import Client, Item, RolloutState


def scenes():
    for path in sorted((SAMPLES / "scenes").glob("*.png"))[:24]:
        number, color, shape = path.stem.split("-", 2)
        yield Item(id=f"scene-{number}", image=path, metadata={"color": color, "shape": shape})


def test_rollout_from_version_1_to_2(client: Client, collection_name: str):
    client.create_collection(collection_name, version=1)
    assert client.ingest(collection_name, scenes(), batch_size=8).committed == 24

    dry = client.start_rollout(collection_name, 2, dry_run=True)
    assert dry.progress.total == 24 and dry.to_dimension == 64

    started = client.start_rollout(collection_name, 2)
    assert started.to.version == 2
    states = []
    for rollout in client.watch_rollout(collection_name, timeout=120):
        states.append(rollout.state)
        if rollout.state == RolloutState.READY:
            break
    assert states[-1] == RolloutState.READY and rollout.progress.done == 24
    assert client.get_rollout(collection_name).id == started.id

    evaluation = client.evaluate_rollout(collection_name, class_key="shape", class_template="a photo of a {}",
                                         queries=[("a red star", ["scene-018"])])
    assert 0 <= evaluation.neighbour_agreement <= 1 and evaluation.to.HasField("zero_shot_accuracy")

    assert client.promote(collection_name).state == RolloutState.PROMOTED
    assert client.get_collection(collection_name).dimension == 64
    client.upsert(collection_name, [{"id": "new", "text": "a small red star", "metadata": {"shape": "star"}}])
    assert client.rollback(collection_name).state == RolloutState.ROLLED_BACK
    assert client.get_collection(collection_name).dimension == 32
    assert [i.id for i in client.get(collection_name, ["new"])] == ["new"]  # written to both versions

    client.promote(collection_name)
    finalized = client.finalize(collection_name)
    assert finalized.state == RolloutState.FINALIZED
    hits = client.search(collection_name, text="a red star", top_k=3, include_vectors=True)
    assert len(hits[0].vector) == 64
    assert [r.id for r in client.list_rollouts(collection_name)] == [started.id]
    assert client.wait_for_rollout(collection_name, timeout=30).state == RolloutState.FINALIZED
