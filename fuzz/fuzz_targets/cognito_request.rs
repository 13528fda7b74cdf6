//! Every Cognito operation, through the same entry point as the HTTP layer (`Cognito::call`
//! after the body is decoded), on a fresh in-memory service per input (see
//! `cognate_fuzz::cognito` for the input format). No input may panic or end in
//! InternalErrorException.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: { cognate_fuzz::seeds::write_if_asked("cognito_request", cognate_fuzz::cognito::seeds); },
    |data: &[u8]| {
    cognate_fuzz::runtime().block_on(cognate_fuzz::cognito::run(data));
});
