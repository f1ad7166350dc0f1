//! A declared frame length is never allocated up front: a counting allocator records the
//! largest allocation while a server reads headers announcing huge frames. This file holds a
//! single test so that no other test allocates concurrently.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use mtproto_proto::transport::{Codec, TransportConfig, TransportError};

struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only records sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn declared_lengths_are_not_allocated() {
    let headers: [(&[u8], Option<TransportError>); 5] = [
        // Within the 4 MiB default limit: waits for the body.
        (&[0xee, 0xee, 0xee, 0xee, 0x00, 0x00, 0x3f, 0x00], None),
        (&[0xef, 0x7f, 0x00, 0x00, 0x0f], None),
        (&[0x0c, 0x00, 0x3f, 0x00, 0, 0, 0, 0], None),
        // Beyond it: refused on the header.
        (
            &[0xdd, 0xdd, 0xdd, 0xdd, 0xff, 0xff, 0xff, 0x7f],
            Some(TransportError::FrameTooLarge {
                len: 0x7fff_ffff,
                max: 4 << 20,
            }),
        ),
        (
            &[0xef, 0x7f, 0xff, 0xff, 0xff],
            Some(TransportError::FrameTooLarge {
                len: 0xff_ffff * 4,
                max: 4 << 20,
            }),
        ),
    ];
    for (header, expected) in headers {
        let mut server = Codec::server(TransportConfig::for_server());
        LARGEST.store(0, Ordering::Relaxed);
        server.handle_input(header);
        server.handle_input(&[0; 100]);
        let result = server.poll_frame();
        let largest = LARGEST.load(Ordering::Relaxed);
        match expected {
            None => assert_eq!(result, Ok(None), "{header:02x?}"),
            Some(e) => assert_eq!(result, Err(e), "{header:02x?}"),
        }
        assert!(largest < 4096, "{header:02x?}: allocated {largest} bytes");
    }
}
