//! Page tokens (and every value Herald seals) as any bytes a client could send back: opening
//! answers (never panics) and accepts only what was sealed under the same key and context.
#![no_main]

use herald_core::crypto::MasterKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key =
        MasterKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("a key");
    assert!(
        key.open("devices/tnt_1/", data).is_err(),
        "forged: {data:?}"
    );
    let sealed = key.seal("devices/tnt_1/", data);
    assert_eq!(key.open("devices/tnt_1/", &sealed).expect("opens"), data);
    assert!(
        key.open("devices/tnt_2/", &sealed).is_err(),
        "another list's token"
    );
});
