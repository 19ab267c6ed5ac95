//! The plugins and datasets a manifest names (`[[plugins]]`, `[[datasets]]`), added, changed
//! and removed by an admin's uploads. The files themselves travel beside the text.

use toml_edit::{ArrayOfTables, Item, Table};

use super::edit::{EditError, Manifest, max_position, strings};

impl Manifest {
    /// The file of dataset `name`, adding it to `[[datasets]]` (as `datasets/<name>.csv`) when the
    /// pack has no such dataset yet.
    pub fn put_dataset(&mut self, name: &str) -> String {
        if let Some(file) = self.entry("datasets", "name", name).and_then(|t| file_of(t)) {
            return file;
        }
        let file = format!("datasets/{name}.csv");
        self.append("datasets", [("name", name), ("file", &file)]);
        file
    }

    /// The module file of plugin `id`, adding it to `[[plugins]]` (as `plugins/<id>.wasm`) when
    /// the pack has no such plugin yet. `citizen_fields`, when given, become the citizen's details
    /// the plugin is shown.
    pub fn put_plugin(&mut self, id: &str, citizen_fields: Option<&[String]>) -> String {
        let file = match self.entry("plugins", "id", id).and_then(|t| file_of(t)) {
            Some(file) => file,
            None => {
                let file = format!("plugins/{id}.wasm");
                self.append("plugins", [("id", id), ("file", &file)]);
                file
            }
        };
        if let (Some(fields), Some(plugin)) = (citizen_fields, self.entry("plugins", "id", id)) {
            super::edit::set(plugin, "citizen_fields", (!fields.is_empty()).then(|| strings(fields)));
        }
        file
    }

    pub fn remove_dataset(&mut self, name: &str) -> Result<(), EditError> {
        self.remove_entry("datasets", "name", name)
    }

    pub fn remove_plugin(&mut self, id: &str) -> Result<(), EditError> {
        self.remove_entry("plugins", "id", id)
    }

    fn tables(&mut self, list: &str) -> Option<&mut ArrayOfTables> {
        self.root().get_mut(list).and_then(Item::as_array_of_tables_mut)
    }

    fn entry(&mut self, list: &str, key: &str, value: &str) -> Option<&mut Table> {
        self.tables(list)?.iter_mut().find(|t| t.get(key).and_then(Item::as_str) == Some(value))
    }

    fn append<'a>(&mut self, list: &str, keys: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let next = max_position(self.root()) + 1;
        let mut table = Table::new();
        table.set_position(Some(next));
        for (key, value) in keys {
            table.insert(key, toml_edit::value(value));
        }
        let item = self.root().entry(list).or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()));
        if let Some(tables) = item.as_array_of_tables_mut() {
            tables.push(table);
        }
    }

    fn remove_entry(&mut self, list: &str, key: &str, value: &str) -> Result<(), EditError> {
        let tables = self.tables(list).ok_or(EditError::Missing)?;
        let index =
            tables.iter().position(|t| t.get(key).and_then(Item::as_str) == Some(value)).ok_or(EditError::Missing)?;
        tables.remove(index);
        Ok(())
    }
}

fn file_of(table: &Table) -> Option<String> {
    table.get("file").and_then(Item::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packs::parse_config;

    const PACK: &str = "slug = \"demo\"\nname = \"Demo\"\nprivacy_notice_version = \"1\"\n\n\
        [branding]\nprimary_color = \"#005a8c\"\n\n\
        # The notices' rule.\n[[plugins]]\nid = \"notice\"\nfile = \"plugins/pagopa.wasm\"\n";

    #[test]
    fn a_new_plugin_is_named_after_its_id_and_an_existing_one_keeps_its_file() {
        let mut manifest = Manifest::parse(PACK).unwrap();
        assert_eq!(manifest.put_plugin("notice", None), "plugins/pagopa.wasm");
        assert_eq!(manifest.text(), PACK, "a replaced module changes nothing in the text");
        let fields = vec!["fiscal_code".to_owned(), "email".to_owned()];
        assert_eq!(manifest.put_plugin("check", Some(&fields)), "plugins/check.wasm");
        manifest.put_plugin("notice", Some(&["fiscal_code".to_owned()]));
        let config = parse_config(&manifest.text()).unwrap();
        let seen: Vec<(String, usize)> =
            config.plugins.iter().map(|p| (p.id.to_string(), p.citizen_fields.len())).collect();
        assert_eq!(seen, [("notice".to_owned(), 1), ("check".to_owned(), 2)]);
        assert!(manifest.text().contains("# The notices' rule."), "{}", manifest.text());
    }

    #[test]
    fn removed_plugins_and_datasets_leave_the_rest() {
        let mut manifest = Manifest::parse(PACK).unwrap();
        assert_eq!(manifest.put_dataset("avvisi"), "datasets/avvisi.csv");
        assert_eq!(manifest.put_dataset("avvisi"), "datasets/avvisi.csv");
        assert_eq!(manifest.remove_dataset("other"), Err(EditError::Missing));
        manifest.remove_plugin("notice").unwrap();
        let config = parse_config(&manifest.text()).unwrap();
        assert!(config.plugins.is_empty());
        assert_eq!(config.datasets.len(), 1);
        manifest.remove_dataset("avvisi").unwrap();
        assert!(parse_config(&manifest.text()).unwrap().datasets.is_empty());
        assert_eq!(manifest.remove_plugin("notice"), Err(EditError::Missing));
    }
}
