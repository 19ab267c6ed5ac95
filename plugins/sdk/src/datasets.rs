//! Tenant datasets: keyed tables the tenant ships in its pack, read through the host.

use std::collections::BTreeMap;

/// One row of a dataset: column name → value, as in the CSV the tenant provided.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct Row(BTreeMap<String, String>);

impl Row {
    /// The value of `column`, `None` when the dataset has no such column.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.0.get(column).map(String::as_str)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Row {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(columns: I) -> Self {
        Self(columns.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

/// Read access to the tenant's datasets.
pub trait Datasets {
    /// The row of `key` in dataset `name`; `None` when the dataset or the key is unknown.
    fn row(&self, name: &str, key: &str) -> Option<Row>;
}

/// Datasets held in memory: for testing rules on the host.
#[derive(Clone, Debug, Default)]
pub struct MemoryDatasets(BTreeMap<String, BTreeMap<String, Row>>);

impl MemoryDatasets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the row of `key` in dataset `name`.
    pub fn insert(&mut self, name: &str, key: &str, row: Row) {
        self.0.entry(name.to_owned()).or_default().insert(key.to_owned(), row);
    }
}

impl Datasets for MemoryDatasets {
    fn row(&self, name: &str, key: &str) -> Option<Row> {
        self.0.get(name)?.get(key).cloned()
    }
}

/// The datasets of the tenant whose rule is running, through `sportello.dataset_lookup`.
#[cfg(target_arch = "wasm32")]
pub struct HostDatasets;

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "sportello")]
extern "C" {
    fn dataset_lookup(
        name_ptr: *const u8,
        name_len: usize,
        key_ptr: *const u8,
        key_len: usize,
        out_ptr: *mut u8,
        out_cap: usize,
    ) -> i32;
}

#[cfg(target_arch = "wasm32")]
impl Datasets for HostDatasets {
    fn row(&self, name: &str, key: &str) -> Option<Row> {
        let mut buffer = vec![0u8; 1024];
        loop {
            // SAFETY: both strings and the buffer are valid for the lengths given; the host
            // writes at most `buffer.len()` bytes and only when the whole row fits.
            let length = unsafe {
                dataset_lookup(name.as_ptr(), name.len(), key.as_ptr(), key.len(), buffer.as_mut_ptr(), buffer.len())
            };
            let length = usize::try_from(length).ok()?;
            if length <= buffer.len() {
                return serde_json::from_slice(&buffer[..length]).ok();
            }
            buffer.resize(length, 0);
        }
    }
}
