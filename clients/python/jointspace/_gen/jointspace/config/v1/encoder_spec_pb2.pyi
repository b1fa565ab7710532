from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

BGR: ChannelOrder
BICUBIC: ResizeFilter
BILINEAR: ResizeFilter
CENTER_CROP: CropMode
CHANNEL_ORDER_UNSPECIFIED: ChannelOrder
CROP_MODE_UNSPECIFIED: CropMode
DESCRIPTOR: _descriptor.FileDescriptor
FP32: PixelType
LAYOUT_UNSPECIFIED: Layout
NCHW: Layout
NEAREST: ResizeFilter
NHWC: Layout
PIXEL_TYPE_UNSPECIFIED: PixelType
RESIZE_FILTER_UNSPECIFIED: ResizeFilter
RGB: ChannelOrder
STRETCH: CropMode
UINT8: PixelType

class EncoderSpec(_message.Message):
    __slots__ = ["image", "logit_scale", "normalize", "text"]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    LOGIT_SCALE_FIELD_NUMBER: _ClassVar[int]
    NORMALIZE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    image: ImageEncoderSpec
    logit_scale: float
    normalize: bool
    text: TextEncoderSpec
    def __init__(self, text: _Optional[_Union[TextEncoderSpec, _Mapping]] = ..., image: _Optional[_Union[ImageEncoderSpec, _Mapping]] = ..., normalize: bool = ..., logit_scale: _Optional[float] = ...) -> None: ...

class ImageEncoderSpec(_message.Message):
    __slots__ = ["channel_order", "crop", "height", "input", "layout", "mean", "output", "pixel_type", "resize", "signature", "std", "width"]
    CHANNEL_ORDER_FIELD_NUMBER: _ClassVar[int]
    CROP_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    LAYOUT_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    PIXEL_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESIZE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    STD_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    channel_order: ChannelOrder
    crop: CropMode
    height: int
    input: str
    layout: Layout
    mean: _containers.RepeatedScalarFieldContainer[float]
    output: str
    pixel_type: PixelType
    resize: ResizeFilter
    signature: str
    std: _containers.RepeatedScalarFieldContainer[float]
    width: int
    def __init__(self, signature: _Optional[str] = ..., input: _Optional[str] = ..., output: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., resize: _Optional[_Union[ResizeFilter, str]] = ..., crop: _Optional[_Union[CropMode, str]] = ..., channel_order: _Optional[_Union[ChannelOrder, str]] = ..., layout: _Optional[_Union[Layout, str]] = ..., pixel_type: _Optional[_Union[PixelType, str]] = ..., mean: _Optional[_Iterable[float]] = ..., std: _Optional[_Iterable[float]] = ...) -> None: ...

class TextEncoderSpec(_message.Message):
    __slots__ = ["attention_mask", "context_length", "input_ids", "max_chars", "output", "pad_id", "signature", "tokenizer"]
    ATTENTION_MASK_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    INPUT_IDS_FIELD_NUMBER: _ClassVar[int]
    MAX_CHARS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    PAD_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    TOKENIZER_FIELD_NUMBER: _ClassVar[int]
    attention_mask: str
    context_length: int
    input_ids: str
    max_chars: int
    output: str
    pad_id: int
    signature: str
    tokenizer: str
    def __init__(self, signature: _Optional[str] = ..., input_ids: _Optional[str] = ..., attention_mask: _Optional[str] = ..., output: _Optional[str] = ..., tokenizer: _Optional[str] = ..., context_length: _Optional[int] = ..., pad_id: _Optional[int] = ..., max_chars: _Optional[int] = ...) -> None: ...

class ResizeFilter(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class CropMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ChannelOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Layout(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class PixelType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
