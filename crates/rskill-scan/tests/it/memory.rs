//! Memory stays bounded on a 1 GiB input: the pickle walker skips payloads as it reads.

use std::sync::atomic::Ordering;

use rskill_scan::pickle;
use rskill_test_support::scan_corpus::LargePickle;

use crate::alloc::{LIVE, PEAK};

#[test]
fn a_one_gib_pickle_is_walked_in_bounded_memory() {
    let gib = 1u64 << 30;
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let walk = pickle::walk(LargePickle::new(gib));
    let peak = PEAK.load(Ordering::Relaxed) - before;
    eprintln!("peak allocation while walking 1 GiB: {peak} bytes");
    assert!(walk.error.is_none(), "{walk:?}");
    assert_eq!(walk.pickles, 1);
    assert!(walk.bytes > gib);
    // Other tests of this binary run in parallel; 16 MiB is far above the walker's own
    // use (a 64 KiB read buffer) and far below the 1 GiB it read.
    assert!(peak < 16 << 20, "peak allocation {peak} bytes");
}
