//! How memory is allocated: the allocator of the program, and the facts of a run. The
//! facts are kept until the end of the run, a few lists for each object of the input,
//! so the room a list keeps beyond its items is multiplied by the objects of a large
//! input.

use std::alloc::{GlobalAlloc, Layout};

/// mimalloc, asked for an alignment only when a block of the size would not have it.
///
/// Parsing allocates many small strings; mimalloc is markedly faster than the system
/// allocator for that pattern and keeps peak memory lower with two worker threads. It is
/// built without transparent huge pages (the `no_thp` feature): a 2 MiB page is resident
/// as a whole, and `lint` on a large input held 15% more memory with them.
///
/// The `mimalloc` crate's allocator passes every request to `mi_malloc_aligned`, whose
/// checks cost instructions on every allocation over `mi_malloc`: on the shared corpus
/// of 2,000 applications lint ran 1,177.4 million instructions with it, 1,144.6 million
/// with this one. On 64-bit targets mimalloc rounds every block of 16 bytes or more to a
/// multiple of 16 and aligns it to 16 (`MI_MAX_ALIGN_SIZE`; its allocation path asserts
/// it), and an 8-byte block to 8, as the system allocator does: so a request whose
/// alignment is at most 16 and at most its size is served by `mi_malloc`, and only any
/// other by the aligned functions. Elsewhere only the word size is relied on.
pub struct Allocator;

/// The alignment every block of mimalloc has, for a size at least as large.
const NATURAL_ALIGNMENT: usize = if cfg!(target_pointer_width = "64") {
    16
} else {
    std::mem::size_of::<usize>()
};

fn natural(align: usize, size: usize) -> bool {
    align <= NATURAL_ALIGNMENT && align <= size
}

// SAFETY: every block comes from mimalloc and goes back to it: `mi_free` and
// `mi_realloc` take blocks of either kind of allocation. A block from `mi_malloc` is
// aligned as `natural` requires (see above), others are allocated at the alignment asked.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        allocate(
            layout,
            libmimalloc_sys::mi_malloc,
            libmimalloc_sys::mi_malloc_aligned,
        )
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        allocate(
            layout,
            libmimalloc_sys::mi_zalloc,
            libmimalloc_sys::mi_zalloc_aligned,
        )
    }

    #[inline]
    unsafe fn dealloc(&self, pointer: *mut u8, _layout: Layout) {
        libmimalloc_sys::mi_free(pointer.cast());
    }

    #[inline]
    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if natural(layout.align(), new_size) {
            libmimalloc_sys::mi_realloc(pointer.cast(), new_size).cast()
        } else {
            libmimalloc_sys::mi_realloc_aligned(pointer.cast(), new_size, layout.align()).cast()
        }
    }
}

/// A block for `layout` from mimalloc's `plain` allocation when its natural alignment is
/// enough, else from the `aligned` one.
///
/// # Safety
///
/// As [`GlobalAlloc::alloc`]: `layout` has a size other than zero.
#[inline(always)]
unsafe fn allocate(
    layout: Layout,
    plain: unsafe extern "C" fn(usize) -> *mut std::ffi::c_void,
    aligned: unsafe extern "C" fn(usize, usize) -> *mut std::ffi::c_void,
) -> *mut u8 {
    if natural(layout.align(), layout.size()) {
        plain(layout.size()).cast()
    } else {
        aligned(layout.size(), layout.align()).cast()
    }
}

/// A list kept until the end of the run (one of each object's), at its exact size.
/// `Vec::into_boxed_slice` shrinks the room that growing the list left, but in place:
/// mimalloc keeps a block shrunk to no less than half its size, so a container's six
/// variables, grown to room for eight, held 960 bytes for 720. The items are moved to
/// an allocation of their size instead: on the shared benchmark corpus the facts took
/// 56.7 MB of the allocator's blocks for 43.8 MB of records, and take 46.6 MB now (peak
/// RSS 98.7 MiB before, 88.3 MiB after).
pub fn exact<T>(mut items: Vec<T>) -> Box<[T]> {
    if items.len() < items.capacity() {
        let mut exact = Vec::with_capacity(items.len());
        exact.append(&mut items);
        return exact.into_boxed_slice();
    }
    items.into_boxed_slice()
}

/// Collecting facts at their exact size.
pub trait CollectExact: Iterator + Sized {
    /// The items at their exact size, in one allocation when the iterator yields as many
    /// as it may at most (a list of the input, most of whose items become facts). A
    /// `filter_map` over a list says it may yield none, so `collect` starts with room
    /// for four and doubles: a container's six variables were allocated three times and
    /// copied twice, and growing past 1 KiB took mimalloc's slow path.
    fn collect_exact(self) -> Box<[Self::Item]> {
        let mut items = Vec::with_capacity(room_for(self.size_hint()));
        items.extend(self);
        exact(items)
    }
}

impl<I: Iterator> CollectExact for I {}

/// Most items made room for before they come: a hostile list of a million items that
/// all fall to the filter is not given room for a million facts; past this a list grows
/// as it fills.
const MOST_RESERVED: usize = 4096;

/// The room to make for the items of an iterator with this `size_hint`.
pub fn room_for((_, most): (usize, Option<usize>)) -> usize {
    most.unwrap_or(0).min(MOST_RESERVED)
}

#[cfg(test)]
mod tests {
    use super::{exact, Allocator, CollectExact};
    use std::alloc::{GlobalAlloc, Layout};

    #[test]
    fn collected_lists_hold_their_items_and_no_more() {
        let kept = (0..10).filter(|n| n % 3 == 0).collect_exact();
        assert_eq!(&*kept, [0, 3, 6, 9]);
        let all = ["a", "b"].iter().map(|s| s.to_string()).collect_exact();
        assert_eq!(&*all, ["a", "b"]);
        assert!(std::iter::empty::<u8>().collect_exact().is_empty());
        let few = (0..1_000_000).filter(|n| n % 250_000 == 0).collect_exact();
        assert_eq!(&*few, [0, 250_000, 500_000, 750_000]);
        assert_eq!(super::room_for((0, Some(1_000_000))), super::MOST_RESERVED);
        assert_eq!(super::room_for((0, None)), 0);
    }

    /// Every block has the alignment asked, through each entry point and for sizes
    /// around every size class mimalloc has below a few kilobytes.
    #[test]
    fn blocks_have_the_alignment_asked() {
        let aligned = |pointer: *mut u8, align: usize| {
            assert!(!pointer.is_null());
            assert_eq!(pointer as usize % align, 0, "alignment {align}");
        };
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in (1..=300).chain([1000, 1024, 4095, 4096, 10_000]) {
                let layout = Layout::from_size_align(size, align).expect("a valid layout");
                // SAFETY: each block is freed once, with the layout it was allocated
                // with (its new size after a realloc).
                unsafe {
                    let block = Allocator.alloc(layout);
                    aligned(block, align);
                    block.write_bytes(0xA5, size);
                    let grown = Allocator.realloc(block, layout, size * 3);
                    aligned(grown, align);
                    assert_eq!(*grown.add(size - 1), 0xA5, "realloc keeps the bytes");
                    Allocator.dealloc(
                        grown,
                        Layout::from_size_align(size * 3, align).expect("a valid layout"),
                    );
                    let zeroed = Allocator.alloc_zeroed(layout);
                    aligned(zeroed, align);
                    assert!((0..size).all(|at| *zeroed.add(at) == 0));
                    Allocator.dealloc(zeroed, layout);
                }
            }
        }
    }

    #[test]
    fn a_list_keeps_its_items_in_order_and_no_room_beyond_them() {
        let mut grown = Vec::with_capacity(8);
        grown.extend(["a", "b", "c", "d", "e", "f"].map(String::from));
        let items = exact(grown);
        assert_eq!(&*items, ["a", "b", "c", "d", "e", "f"]);
        let full = vec![1, 2, 3];
        let allocation = full.as_ptr();
        let kept = exact(full);
        assert_eq!(
            kept.as_ptr(),
            allocation,
            "a list with no spare room keeps its allocation"
        );
        assert!(exact(Vec::<u8>::with_capacity(4)).is_empty());
    }
}
