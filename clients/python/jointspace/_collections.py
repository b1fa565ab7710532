"""CollectionService: collections, items and search."""

from __future__ import annotations

from typing import Any, Iterable, List, Mapping, Optional, Sequence, Union

from google.protobuf import json_format

from ._base import Base
from ._convert import ImageSource, enum_value, image_input, model_spec, text_input
from ._embedding import DEFAULT_MODEL
from ._gen.jointspace.v1 import collection_service_pb2 as pb
from ._ingest import chunks, ingest
from .filters import Filter
from .types import Hit, IngestResult, Item, StoredItem

ItemLike = Union[Item, Mapping[str, Any]]
"""An ``Item``, or a dict with its keys: ``{"id": "a", "text": "...", "metadata": {...}}``."""

MAX_IDS_PER_CALL = 1000


class Collections(Base):
    def create_collection(
        self,
        name: str,
        *,
        model: str = DEFAULT_MODEL,
        version: Optional[int] = None,
        label: Optional[str] = None,
        metric: Union[str, int, None] = None,
        vector_type: Union[str, int, None] = None,
        dimension: int = 0,
        keep_sources: Optional[bool] = None,
        description: str = "",
        m: int = 0,
        ef_construction: int = 0,
        label_policy: Union[pb.LabelPolicy, Mapping[str, Any], None] = None,
        indexed_keys: Sequence[str] = (),
        timeout: Optional[float] = None,
    ) -> pb.Collection:
        """Creates a collection bound to a model version (the newest available one unless
        ``version`` or ``label`` says; one created on a label follows it).

        ``metric``: "COSINE" (default), "INNER_PRODUCT" or "L2"; ``vector_type``: "VECTOR"
        (default) or "HALFVEC"; ``m`` and ``ef_construction`` tune the HNSW index;
        ``label_policy`` (a LabelPolicy or a dict of its fields) says how a collection on a
        label moves with it; ``indexed_keys`` are metadata keys searches filter on by equality
        ("a.b" for a nested key), whose frequent values get partial HNSW indexes.
        """
        request = pb.CreateCollectionRequest(
            name=name,
            model=model_spec(model, version, label),
            metric=enum_value(pb.Metric, metric or 0),
            vector_type=enum_value(pb.VectorType, vector_type or 0),
            dimension=dimension,
            description=description,
            index=pb.IndexParameters(m=m, ef_construction=ef_construction),
            indexed_keys=list(indexed_keys),
        )
        if keep_sources is not None:
            request.keep_sources = keep_sources
        if isinstance(label_policy, pb.LabelPolicy):
            request.label_policy.CopyFrom(label_policy)
        elif label_policy is not None:
            json_format.ParseDict(label_policy, request.label_policy)
        return self._unary(self._collections.CreateCollection, request, timeout)

    def get_collection(self, name: str, *, timeout: Optional[float] = None) -> pb.Collection:
        """A collection: its model version, dimension, item count, rollout, view."""
        return self._unary(self._collections.GetCollection, pb.GetCollectionRequest(name=name), timeout)

    def update_collection(
        self,
        name: str,
        *,
        description: Optional[str] = None,
        indexed_keys: Optional[Sequence[str]] = None,
        timeout: Optional[float] = None,
    ) -> pb.Collection:
        """Changes the description and/or the indexed keys (the whole list), those given;
        returns the collection as it is now."""
        request = pb.UpdateCollectionRequest(name=name, description=description or "",
                                             indexed_keys=list(indexed_keys or ()))
        if description is not None:
            request.update_mask.paths.append("description")
        if indexed_keys is not None:
            request.update_mask.paths.append("indexed_keys")
        return self._unary(self._collections.UpdateCollection, request, timeout)

    def list_collections(self, *, timeout: Optional[float] = None) -> List[pb.Collection]:
        """Every collection, sorted by name."""
        response = self._unary(self._collections.ListCollections, pb.ListCollectionsRequest(), timeout)
        return list(response.collections)

    def delete_collection(self, name: str, *, timeout: Optional[float] = None) -> None:
        """Drops a collection, its tables and its view."""
        self._unary(self._collections.DeleteCollection, pb.DeleteCollectionRequest(name=name), timeout)

    def upsert(self, collection: str, items: Iterable[ItemLike], *,
               timeout: Optional[float] = None) -> int:
        """Inserts or replaces items by id in one transaction (at most 1000; for more, use
        ``ingest``). Returns the number written."""
        request = pb.UpsertRequest(collection=collection, items=[Item.of(i).to_proto() for i in items])
        return self._unary(self._collections.Upsert, request, timeout).upserted_count

    def ingest(
        self,
        collection: str,
        items: Iterable[ItemLike],
        batch_size: int = 1000,
        *,
        resume: bool = False,
        max_ahead: int = 2,
        timeout: Optional[float] = None,
    ) -> IngestResult:
        """Writes any number of items over one UpsertStream, ``batch_size`` items (or fewer,
        to stay under the message size limit) per message, each message one transaction.

        At most ``max_ahead`` messages are sent before the server has committed them.
        With ``resume=True``, ids already stored are skipped (looked up with ``get``, 1000
        at a time), so an ingest that failed part way can be run again with the same items.
        ``timeout`` bounds the whole stream; by default it has none. When ``items`` raises,
        the messages already sent are committed before the exception propagates.
        """
        return ingest(self, collection, items, batch_size, resume=resume, max_ahead=max_ahead,
                      timeout=timeout)

    def get(
        self,
        collection: str,
        ids: Sequence[str],
        *,
        include_vectors: bool = False,
        include_sources: bool = False,
        model_version: int = 0,
        timeout: Optional[float] = None,
    ) -> List[StoredItem]:
        """Items by id, in the order asked; ids not stored are left out. More than 1000 ids
        take several calls."""
        found: List[StoredItem] = []
        for part in chunks(ids, MAX_IDS_PER_CALL):
            request = pb.GetRequest(collection=collection, ids=part, include_vectors=include_vectors,
                                    include_sources=include_sources, model_version=model_version)
            response = self._unary(self._collections.Get, request, timeout)
            found += [StoredItem.from_proto(item) for item in response.items]
        return found

    def delete(self, collection: str, ids: Sequence[str], *, timeout: Optional[float] = None) -> int:
        """Deletes items by id (ids not stored are no error); returns how many were deleted.
        More than 1000 ids take several calls, each its own transaction."""
        deleted = 0
        for part in chunks(ids, MAX_IDS_PER_CALL):
            request = pb.DeleteRequest(collection=collection, ids=part)
            deleted += self._unary(self._collections.Delete, request, timeout).deleted_count
        return deleted

    def search(
        self,
        collection: str,
        *,
        text: Optional[str] = None,
        image: Optional[ImageSource] = None,
        vector: Optional[Sequence[float]] = None,
        id: Optional[str] = None,
        top_k: int = 10,
        filter: Union[Filter, pb.Filter, None] = None,
        include_vectors: bool = False,
        include_metadata: bool = True,
        ef_search: int = 0,
        model_version: int = 0,
        timeout: Optional[float] = None,
    ) -> List[Hit]:
        """The ``top_k`` items nearest to one query, best first: a ``text``, an ``image``
        (bytes or path), a ``vector``, or the ``id`` of a stored item (left out of the hits).

        ``filter`` (see ``F``) keeps only items whose metadata matches. ``model_version``
        names the version to search during a rollout (0: the collection's).
        """
        queries = {"text": text, "image": image, "vector": vector, "id": id}
        given = [name for name, value in queries.items() if value is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of text, image, vector, id")
        request = pb.SearchRequest(collection=collection, top_k=top_k, include_vectors=include_vectors,
                                   include_metadata=include_metadata, ef_search=ef_search,
                                   model_version=model_version)
        if text is not None:
            request.input.CopyFrom(text_input(text))
        elif image is not None:
            request.input.CopyFrom(image_input(image))
        elif vector is not None:
            request.vector.values.extend(vector)
        else:
            request.id = id
        if filter is not None:
            request.filter.CopyFrom(filter.proto if isinstance(filter, Filter) else filter)
        response = self._unary(self._collections.Search, request, timeout)
        return [Hit.from_proto(hit) for hit in response.hits]
