//! Tenant datasets: keyed tables a pack ships as CSV, kept in memory per tenant, that plugins
//! read through one host function (never by file or network access).
//!
//! `sportello.dataset_lookup(name_ptr, name_len, key_ptr, key_len, out_ptr, out_cap) -> i32`
//! writes the row as a JSON object of strings and returns its length; `-1` when the dataset or the
//! key is unknown. A row longer than `out_cap` is not written: the length tells the plugin how
//! much room to make before asking again.

use std::collections::HashMap;

use wasmtime::{Caller, Extern, Linker};

use super::guest_memory as guest;
use super::{Guest, PluginError};

pub const MODULE: &str = "sportello";
pub const LOOKUP: &str = "dataset_lookup";

/// One table: key (the first column) → the row as a JSON object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dataset(HashMap<String, String>);

/// A tenant's tables by name.
pub type Datasets = HashMap<String, Dataset>;

impl Dataset {
    /// Parses CSV with a header row; the first column is the key. Errors name the line.
    pub fn from_csv(text: &[u8]) -> Result<Self, String> {
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text);
        let headers = reader.headers().map_err(|e| e.to_string())?.clone();
        if headers.is_empty() {
            return Err("the first line must name the columns".into());
        }
        let mut rows = HashMap::new();
        for (index, record) in reader.records().enumerate() {
            let line = index + 2;
            let record = record.map_err(|e| format!("line {line}: {e}"))?;
            let key = record
                .get(0)
                .filter(|k| !k.is_empty())
                .ok_or_else(|| format!("line {line}: the key (first column) is empty"))?;
            let row: serde_json::Map<String, serde_json::Value> = headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| (h.to_owned(), serde_json::Value::String(v.to_owned())))
                .collect();
            if rows.insert(key.to_owned(), serde_json::Value::Object(row).to_string()).is_some() {
                return Err(format!("line {line}: the key {key:?} appears twice"));
            }
        }
        Ok(Self(rows))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn text(data: &[u8], at: i32, len: i32) -> Option<&str> {
    std::str::from_utf8(guest::slice(data, at, guest::length(len)?)?).ok()
}

pub fn add(linker: &mut Linker<Guest>) -> Result<(), PluginError> {
    linker
        .func_wrap(
            MODULE,
            LOOKUP,
            |mut caller: Caller<'_, Guest>,
             name: i32,
             name_len: i32,
             key: i32,
             key_len: i32,
             out: i32,
             out_cap: i32|
             -> i32 {
                let Some(Extern::Memory(memory)) = caller.get_export("memory") else { return -1 };
                let (data, guest) = memory.data_and_store_mut(&mut caller);
                let row = match (text(data, name, name_len), text(data, key, key_len)) {
                    (Some(name), Some(key)) => {
                        guest.datasets.get(name).and_then(|d| d.get(key)).map(|r| r.as_bytes().to_vec())
                    }
                    _ => None,
                };
                let Some(row) = row else { return -1 };
                let Ok(length) = i32::try_from(row.len()) else { return -1 };
                if length <= out_cap {
                    match guest::slice_mut(data, out, length.cast_unsigned()) {
                        Some(target) => target.copy_from_slice(&row),
                        None => return -1,
                    }
                }
                length
            },
        )
        .map_err(|e| PluginError::Invalid(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Dataset;

    #[test]
    fn csv_rows_by_their_first_column() {
        let table = Dataset::from_csv(
            b"notice,holder,amount\n302000000001234559, RSSMRA85T10A562S ,123.45\n301000000000000001,X,1\n",
        )
        .unwrap();
        assert_eq!(table.len(), 2);
        assert_eq!(
            table.get("302000000001234559"),
            Some(r#"{"amount":"123.45","holder":"RSSMRA85T10A562S","notice":"302000000001234559"}"#)
        );
        assert_eq!(table.get("nope"), None);
        assert!(Dataset::from_csv(b"a,b\n1,2\n1,3\n").unwrap_err().contains("line 3"));
        assert!(Dataset::from_csv(b"a,b\n,2\n").unwrap_err().contains("empty"));
        assert!(Dataset::from_csv(b"a,b\n1,2,3\n").unwrap_err().contains("line 2"));
    }
}
