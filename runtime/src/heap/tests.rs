//! The collector on hand-made object graphs, with explicit roots (the
//! stack walk has its own tests in `roots`, and the whole runs in the
//! stress conformance tests).

use simple_abi::heap_layout::{KIND_ARRAY, KIND_RECORD, encode_desc, record_slot_offset};

use super::verify::Problem;
use super::*;

/// Descriptors in an 8-aligned buffer standing for the module's
/// read-only data.
struct Rodata {
    words: Vec<u64>,
    /// Byte offset of each descriptor.
    offsets: Vec<usize>,
}

impl Rodata {
    fn new(descs: &[Vec<u8>]) -> Rodata {
        let mut bytes = Vec::new();
        let mut offsets = Vec::new();
        for desc in descs {
            offsets.push(bytes.len());
            bytes.extend_from_slice(desc);
        }
        // A static literal "ab" after the descriptors.
        offsets.push(bytes.len());
        bytes.extend_from_slice(&0u64.to_le_bytes());
        bytes.extend_from_slice(&2u64.to_le_bytes());
        bytes.extend_from_slice(b"ab\0\0\0\0\0\0");
        let words = bytes.chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
        Rodata { words, offsets }
    }
    fn desc(&self, i: usize) -> *const u8 {
        (self.words.as_ptr() as usize + self.offsets[i]) as *const u8
    }
    fn literal(&self) -> *const u8 {
        self.desc(self.offsets.len() - 1)
    }
    fn range(&self) -> Range<usize> {
        let start = self.words.as_ptr() as usize;
        start..start + self.words.len() * 8
    }
}

fn heap(stress: bool) -> Heap {
    Heap::new(Config { stress, enabled: true, stats: false })
}

fn new_str(heap: &mut Heap, text: &str) -> *mut u8 {
    let s = heap.alloc(str_size(text.len()).unwrap(), str_header(), false).unwrap();
    unsafe {
        s.add(8).cast::<u64>().write(text.len() as u64);
        std::ptr::copy_nonoverlapping(text.as_ptr(), s.add(16), text.len());
    }
    s
}

fn new_record(heap: &mut Heap, desc: *const u8) -> *mut u8 {
    let desc = unsafe { Desc::at(desc as usize) };
    heap.alloc(record_size(desc.slots()), desc.address() as u64, true).unwrap()
}

fn set_slot(object: *mut u8, offset: usize, value: *const u8) {
    unsafe { object.add(offset).cast::<*const u8>().write(value) }
}

fn header(object: *const u8) -> u64 {
    unsafe { object.cast::<u64>().read() }
}

fn collect(heap: &mut Heap, roots: &[*const u8], rodata: &Rodata) -> Result<(), BadReference> {
    unsafe { heap.collect(roots, rodata.range()) }
}

fn live_objects(heap: &Heap) -> usize {
    let mut n = 0;
    heap.space.for_each_object(|_| n += 1);
    n
}

#[test]
fn unreachable_strings_are_freed_and_reachable_ones_kept() {
    for stress in [false, true] {
        let rodata = Rodata::new(&[]);
        let mut heap = heap(stress);
        let kept = new_str(&mut heap, "kept");
        let lost = new_str(&mut heap, "lost");
        let big = new_str(&mut heap, &"x".repeat(5000));
        collect(&mut heap, &[kept, std::ptr::null(), rodata.literal(), big], &rodata).unwrap();
        assert_eq!(header(kept), str_header());
        assert_eq!(header(big), str_header());
        assert!(is_dead(header(lost)));
        assert_eq!(live_objects(&heap), 2);
        // The freed cell is reused, in stress mode only after the next
        // collection.
        if stress {
            assert_ne!(new_str(&mut heap, "new"), lost);
            collect(&mut heap, &[], &rodata).unwrap();
        }
        assert_eq!(new_str(&mut heap, "new"), lost);
    }
}

#[test]
fn records_and_arrays_are_traced_through_their_ref_maps() {
    for stress in [false, true] {
        // A pair: slot 0 a reference, slot 1 an integer, slot 2 a reference.
        let rodata =
            Rodata::new(&[encode_desc(KIND_RECORD, &[true, false, true]), encode_desc(KIND_ARRAY, &[false, true])]);
        let mut heap = heap(stress);
        let inner = new_record(&mut heap, rodata.desc(0));
        let outer = new_record(&mut heap, rodata.desc(0));
        let s = new_str(&mut heap, "in a slot");
        let lost = new_str(&mut heap, "lost");
        set_slot(outer, record_slot_offset(0), inner);
        // An integer slot holding what looks like a pointer is not followed.
        set_slot(outer, record_slot_offset(1), lost);
        set_slot(outer, record_slot_offset(2), rodata.literal());
        set_slot(inner, record_slot_offset(2), s);
        let array = unsafe { alloc_array_in(&mut heap, rodata.desc(1), 1000) };
        let elements: Vec<*mut u8> = (0..1000).map(|i| new_str(&mut heap, &i.to_string())).collect();
        for (i, &e) in elements.iter().enumerate() {
            set_slot(array, simple_abi::heap_layout::array_slot_offset(2, i, 1), e);
            set_slot(array, simple_abi::heap_layout::array_slot_offset(2, i, 0), lost);
        }
        collect(&mut heap, &[outer, array], &rodata).unwrap();
        for object in [inner, outer, s, array] {
            assert!(!is_dead(header(object)));
        }
        assert!(elements.iter().all(|&e| header(e) == str_header()));
        assert!(is_dead(header(lost)));
        // Without the roots everything goes.
        collect(&mut heap, &[], &rodata).unwrap();
        assert_eq!(live_objects(&heap), 0);
    }
}

unsafe fn alloc_array_in(heap: &mut Heap, desc: *const u8, len: u64) -> *mut u8 {
    let desc = unsafe { Desc::at(desc as usize) };
    let array = heap.alloc(array_size(desc.slots(), len).unwrap(), desc.address() as u64, true).unwrap();
    unsafe { array.add(ARRAY_LEN_OFFSET).cast::<u64>().write(len) };
    array
}

#[test]
fn a_long_chain_is_marked_without_recursion() {
    // A million-node list: recursive marking would overflow the test
    // thread's stack.
    let rodata = Rodata::new(&[encode_desc(KIND_RECORD, &[true, false])]);
    let mut heap = heap(false);
    let mut head: *mut u8 = std::ptr::null_mut();
    for _ in 0..1_000_000 {
        let node = new_record(&mut heap, rodata.desc(0));
        set_slot(node, record_slot_offset(0), head);
        head = node;
    }
    collect(&mut heap, &[head], &rodata).unwrap();
    assert_eq!(live_objects(&heap), 1_000_000);
    assert_eq!(heap.threshold, 2 * 1_000_000 * 24);
    collect(&mut heap, &[], &rodata).unwrap();
    assert_eq!(live_objects(&heap), 0);
    assert_eq!(heap.threshold, MIN_THRESHOLD);
}

#[test]
fn a_reference_to_a_freed_object_is_reported() {
    for stress in [false, true] {
        let rodata = Rodata::new(&[encode_desc(KIND_RECORD, &[true])]);
        let mut heap = heap(stress);
        let record = new_record(&mut heap, rodata.desc(0));
        let s = new_str(&mut heap, "freed too early");
        // `s` is live, but its root was missed.
        collect(&mut heap, &[record], &rodata).unwrap();
        set_slot(record, record_slot_offset(0), s);
        let error = collect(&mut heap, &[record], &rodata).unwrap_err();
        assert_eq!(error.problem, Problem::Freed);
        assert_eq!(error.reference, s as usize);
        assert_eq!(error.source, Source::Slot { object: record as usize, offset: 8 });
        let error = collect(&mut heap, &[std::ptr::null(), s], &rodata).unwrap_err();
        assert_eq!((error.problem, error.source), (Problem::Freed, Source::Root(1)));
    }
}

#[test]
fn stress_mode_vets_references_before_reading_them() {
    let rodata = Rodata::new(&[encode_desc(KIND_RECORD, &[true])]);
    let mut heap = heap(true);
    let s = new_str(&mut heap, "x");
    let problem = |heap: &mut Heap, root: *const u8| collect(heap, &[root], &rodata).unwrap_err().problem;
    assert_eq!(problem(&mut heap, unsafe { s.add(8) }), Problem::InsideBlock);
    assert_eq!(problem(&mut heap, unsafe { s.add(3) }), Problem::Misaligned);
    assert_eq!(problem(&mut heap, 0x10 as *const u8), Problem::Unknown);
    let on_stack = 0u64;
    assert_eq!(problem(&mut heap, (&on_stack as *const u64).cast()), Problem::Unknown);
    // A descriptor is static data, but not an object with header 0.
    assert!(matches!(problem(&mut heap, rodata.desc(0)), Problem::StaticHeader(_)));
    // A header that names no descriptor.
    let bad = new_str(&mut heap, "y");
    unsafe { bad.cast::<u64>().write(0x1000) };
    assert_eq!(problem(&mut heap, bad), Problem::BadDescriptor(0x1000));
    // A record descriptor on a string-sized cell.
    let big = Rodata::new(&[encode_desc(KIND_RECORD, &[false; 10])]);
    let small = new_str(&mut heap, "z");
    unsafe { small.cast::<u64>().write(big.desc(0) as u64) };
    let error = collect(&mut heap, &[small], &big).unwrap_err();
    assert_eq!(error.problem, Problem::TooLarge { size: Some(88), room: 24 });
}

#[test]
fn allocation_errors() {
    let rodata = Rodata::new(&[encode_desc(KIND_ARRAY, &[true]), encode_desc(KIND_RECORD, &[])]);
    unsafe {
        assert_eq!(alloc_array(rodata.desc(0), -1), Err(AllocError::NegativeLength(-1)));
        assert_eq!(alloc_array(rodata.desc(0), i64::MAX), Err(AllocError::OutOfMemory));
        assert_eq!(
            alloc_array(rodata.desc(1), 1),
            Err(AllocError::WrongKind { expected: KIND_ARRAY, found: KIND_RECORD })
        );
        assert_eq!(
            alloc_record(rodata.desc(0)),
            Err(AllocError::WrongKind { expected: KIND_RECORD, found: KIND_ARRAY })
        );
        let array = alloc_array(rodata.desc(0), 3).unwrap();
        assert_eq!(header(array), rodata.desc(0) as u64);
        assert_eq!(array.add(8).cast::<u64>().read(), 3);
        assert!((0..3).all(|i| array.add(16 + 8 * i).cast::<u64>().read() == 0));
        let empty = alloc_record(rodata.desc(1)).unwrap();
        assert_eq!(header(empty), rodata.desc(1) as u64);
    }
    assert_eq!(AllocError::NegativeLength(-3).to_string(), "negative array length -3");
}

#[test]
fn outside_a_program_thread_nothing_is_collected() {
    with_heap(|heap| heap.threshold = 0);
    let s = alloc_str(3).unwrap();
    // Past the threshold: `maybe_collect` looks at the heap.
    assert!(CHECK.get());
    maybe_collect(&[]);
    assert_eq!(header(s), str_header());
    assert!(CHECK.get());
}
