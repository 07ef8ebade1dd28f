//! libyaml's event parser (`unsafe-libyaml`, a translation of libyaml 0.2.5 to Rust)
//! behind a safe interface: one event at a time, borrowed until the next is asked for.
//! This is the only file that calls into the parser crate, and the only `unsafe` code of
//! the YAML reader.

use std::ffi::CStr;
use std::marker::PhantomData;
use std::mem::MaybeUninit;

/// A position in the input: 1-based line and column (columns counted in characters,
/// as libyaml counts them) and the byte offset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Mark {
    pub line: u32,
    pub column: u32,
    pub offset: usize,
}

impl Mark {
    fn from_libyaml(mark: unsafe_libyaml::yaml_mark_t) -> Mark {
        Mark {
            line: clamp(mark.line.saturating_add(1)),
            column: clamp(mark.column.saturating_add(1)),
            offset: usize::try_from(mark.index).unwrap_or(usize::MAX),
        }
    }
}

fn clamp(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// One parser event. Texts borrow from the parser's current event.
#[derive(Debug)]
pub(super) enum Event<'e> {
    DocumentStart,
    DocumentEnd,
    Alias {
        anchor: &'e [u8],
    },
    Scalar {
        anchor: Option<&'e [u8]>,
        tagged: bool,
        value: &'e [u8],
        style: ScalarStyle,
    },
    SequenceStart {
        anchor: Option<&'e [u8]>,
    },
    SequenceEnd,
    MappingStart {
        anchor: Option<&'e [u8]>,
    },
    MappingEnd,
    /// Stream start and end.
    Other,
}

/// What libyaml reports when it rejects the input.
#[derive(Debug)]
pub(super) struct ParseError {
    pub problem: String,
    /// Where the problem is; `None` for a reader error, which gives `offset` instead.
    pub mark: Option<Mark>,
    pub offset: usize,
    /// What was being parsed, and where it started ("while parsing a block mapping").
    pub context: Option<(String, Mark)>,
}

/// The events of one input, in order.
pub(super) struct EventParser<'input> {
    /// libyaml keeps a pointer to the parser inside the parser (its read handler's
    /// data), so it must not move: it lives in a box of its own.
    parser: Box<MaybeUninit<unsafe_libyaml::yaml_parser_t>>,
    /// The event handed out last, deleted before the next one is parsed.
    event: MaybeUninit<unsafe_libyaml::yaml_event_t>,
    has_event: bool,
    finished: bool,
    input: PhantomData<&'input [u8]>,
}

impl<'input> EventParser<'input> {
    /// A parser over UTF-8 `input` (without a byte order mark).
    pub fn new(input: &'input [u8]) -> Result<EventParser<'input>, ParseError> {
        let mut parser = Box::new(MaybeUninit::<unsafe_libyaml::yaml_parser_t>::uninit());
        // SAFETY: `yaml_parser_initialize` initialises the whole struct it is given, or
        // fails having allocated nothing. On success the input is attached: libyaml keeps
        // the pointer and length, and `input` outlives the parser (the lifetime on the
        // struct). `Drop` deletes the parser only when it was initialised.
        unsafe {
            if unsafe_libyaml::yaml_parser_initialize(parser.as_mut_ptr()).fail {
                return Err(ParseError {
                    problem: "out of memory".to_string(),
                    mark: None,
                    offset: 0,
                    context: None,
                });
            }
            unsafe_libyaml::yaml_parser_set_input_string(
                parser.as_mut_ptr(),
                input.as_ptr(),
                input.len() as u64,
            );
        }
        Ok(EventParser {
            parser,
            event: MaybeUninit::uninit(),
            has_event: false,
            finished: false,
            input: PhantomData,
        })
    }

    /// The next event with its start and end, `None` after the end of the stream.
    ///
    /// Always inlined into its one caller, the tree builder: left to the compiler, some
    /// builds called it and returned each event through memory, and the parse ran 1.5%
    /// more instructions (12 million on the shared corpus of 2,000 applications) for
    /// changes elsewhere in the program.
    #[inline(always)]
    pub fn next_event(&mut self) -> Result<Option<(Event<'_>, Mark, Mark)>, ParseError> {
        self.delete_event();
        if self.finished {
            return Ok(None);
        }
        // SAFETY: the parser was initialised in `new`. On success `yaml_parser_parse`
        // fills the event, which is then owned here until `delete_event`; on failure it
        // fills nothing and the error fields of the parser are set.
        unsafe {
            if unsafe_libyaml::yaml_parser_parse(self.parser.as_mut_ptr(), self.event.as_mut_ptr())
                .fail
            {
                self.finished = true;
                return Err(self.error());
            }
        }
        self.has_event = true;
        // SAFETY: the event was just filled by a successful parse.
        let event = unsafe { self.event.assume_init_ref() };
        let start = Mark::from_libyaml(event.start_mark);
        let end = Mark::from_libyaml(event.end_mark);
        // SAFETY: each union field is read only for the event type that libyaml fills it
        // for; the strings it points to stay valid until the event is deleted, which
        // happens only when `self` is borrowed mutably again.
        let converted = unsafe {
            match event.type_ {
                unsafe_libyaml::YAML_STREAM_END_EVENT => {
                    self.finished = true;
                    Event::Other
                }
                unsafe_libyaml::YAML_DOCUMENT_START_EVENT => Event::DocumentStart,
                unsafe_libyaml::YAML_DOCUMENT_END_EVENT => Event::DocumentEnd,
                unsafe_libyaml::YAML_ALIAS_EVENT => Event::Alias {
                    anchor: c_bytes(event.data.alias.anchor).unwrap_or_default(),
                },
                unsafe_libyaml::YAML_SCALAR_EVENT => {
                    let scalar = &event.data.scalar;
                    let value = if scalar.value.is_null() {
                        &[][..]
                    } else {
                        std::slice::from_raw_parts(
                            scalar.value,
                            usize::try_from(scalar.length).unwrap_or(0),
                        )
                    };
                    Event::Scalar {
                        anchor: c_bytes(scalar.anchor),
                        tagged: !scalar.tag.is_null(),
                        value,
                        style: match scalar.style {
                            unsafe_libyaml::YAML_SINGLE_QUOTED_SCALAR_STYLE => {
                                ScalarStyle::SingleQuoted
                            }
                            unsafe_libyaml::YAML_DOUBLE_QUOTED_SCALAR_STYLE => {
                                ScalarStyle::DoubleQuoted
                            }
                            unsafe_libyaml::YAML_LITERAL_SCALAR_STYLE => ScalarStyle::Literal,
                            unsafe_libyaml::YAML_FOLDED_SCALAR_STYLE => ScalarStyle::Folded,
                            _ => ScalarStyle::Plain,
                        },
                    }
                }
                unsafe_libyaml::YAML_SEQUENCE_START_EVENT => Event::SequenceStart {
                    anchor: c_bytes(event.data.sequence_start.anchor),
                },
                unsafe_libyaml::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
                unsafe_libyaml::YAML_MAPPING_START_EVENT => Event::MappingStart {
                    anchor: c_bytes(event.data.mapping_start.anchor),
                },
                unsafe_libyaml::YAML_MAPPING_END_EVENT => Event::MappingEnd,
                _ => Event::Other,
            }
        };
        Ok(Some((converted, start, end)))
    }

    fn error(&self) -> ParseError {
        // SAFETY: the parser is initialised; its error fields are plain data, and the
        // problem and context texts are static strings of libyaml (or null).
        let parser = unsafe { self.parser.assume_init_ref() };
        let text = |pointer: *const std::ffi::c_char| {
            (!pointer.is_null()).then(|| {
                unsafe { CStr::from_ptr(pointer) }
                    .to_string_lossy()
                    .into_owned()
            })
        };
        let mut problem = text(parser.problem).unwrap_or_else(|| "invalid YAML".to_string());
        let reader = parser.error == unsafe_libyaml::YAML_READER_ERROR;
        if reader && parser.problem_value >= 0 {
            problem = format!("{problem} (#x{:02X})", parser.problem_value);
        }
        ParseError {
            problem,
            mark: (!reader).then(|| Mark::from_libyaml(parser.problem_mark)),
            offset: usize::try_from(parser.problem_offset).unwrap_or(usize::MAX),
            context: text(parser.context).map(|context| {
                let mark = Mark::from_libyaml(parser.context_mark);
                (context, mark)
            }),
        }
    }

    fn delete_event(&mut self) {
        if self.has_event {
            // SAFETY: the event was filled by a successful parse and not deleted yet.
            unsafe { unsafe_libyaml::yaml_event_delete(self.event.as_mut_ptr()) };
            self.has_event = false;
        }
    }
}

impl Drop for EventParser<'_> {
    fn drop(&mut self) {
        self.delete_event();
        // SAFETY: the parser was initialised in `new` (a failed initialisation returns
        // before an `EventParser` exists) and is deleted once, here.
        unsafe { unsafe_libyaml::yaml_parser_delete(self.parser.as_mut_ptr()) };
    }
}

/// The bytes of a NUL-terminated libyaml string, `None` for a null pointer.
///
/// # Safety
/// `pointer` is null or points to a NUL-terminated string that outlives `'a`.
unsafe fn c_bytes<'a>(pointer: *const u8) -> Option<&'a [u8]> {
    (!pointer.is_null()).then(|| CStr::from_ptr(pointer.cast()).to_bytes())
}
