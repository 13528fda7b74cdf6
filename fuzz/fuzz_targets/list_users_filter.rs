//! The ListUsers `Filter` grammar (`name ^= "value"`): no input may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(filter) = std::str::from_utf8(data) {
        let _ = cognate_core::ops::admin::parse_filter(filter);
    }
});
