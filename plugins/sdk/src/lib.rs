//! Write Sportello tenant rules in Rust.
//!
//! A rule is a plain function from a hook's input to a [`Verdict`], given the tenant's datasets;
//! [`export!`] turns such functions into the exports of a Sportello plugin (ABI version 1: a
//! WASI preview-1 reactor reading JSON on stdin and writing JSON on stdout; docs/plugins.md).
//! Because rules are plain functions, their unit tests run on the host with [`MemoryDatasets`].
//!
//! ```
//! use sportello_plugin_sdk::{export, Datasets, MemoryDatasets, ValidateInput, Verdict};
//!
//! fn validate(input: &ValidateInput, _datasets: &dyn Datasets) -> Verdict {
//!     match input.answer("notice_number") {
//!         Some(_) => Verdict::accept(),
//!         None => Verdict::reject("answers.notice_number", "Manca il numero", "Missing number"),
//!     }
//! }
//!
//! export!(validate = validate);
//!
//! let input: ValidateInput = serde_json::from_str(r#"{"service": "s", "office": "o", "mode": "in_person",
//!     "slot": {"start": "2026-12-02T07:30:00Z", "end": "2026-12-02T08:00:00Z", "timezone": "Europe/Rome"},
//!     "answers": {}, "locale": "it"}"#).unwrap();
//! assert!(!validate(&input, &MemoryDatasets::new()).ok);
//! ```

mod datasets;
mod guest;
mod types;

#[cfg(target_arch = "wasm32")]
pub use datasets::HostDatasets;
pub use datasets::{Datasets, MemoryDatasets, Row};
#[doc(hidden)]
pub use guest::serve;
pub use types::{FieldError, LookupInput, Slot, SummaryLine, Text, ValidateInput, Verdict};

/// Exports the given rules as hooks of a Sportello plugin, plus the ABI version marker:
/// `export!(validate = my_validate, lookup = my_lookup)` (each hook optional, at least one).
/// The exports exist only when building for WebAssembly; on the host the rules stay plain
/// functions for tests.
#[macro_export]
macro_rules! export {
    ($($hook:ident = $rule:path),+ $(,)?) => {
        /// ABI version 1 of Sportello plugins: the host reads the version from this export's name.
        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub extern "C" fn sportello_abi_1() {}
        $($crate::__export_hook!($hook, $rule);)+
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_hook {
    (validate, $rule:path) => {
        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub extern "C" fn sportello_validate() {
            $crate::serve(|input: $crate::ValidateInput| $rule(&input, &$crate::HostDatasets));
        }
    };
    (lookup, $rule:path) => {
        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub extern "C" fn sportello_lookup() {
            $crate::serve(|input: $crate::LookupInput| $rule(&input, &$crate::HostDatasets));
        }
    };
}
