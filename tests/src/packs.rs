//! Tenant packs used by the tests, written to a temporary folder.

use std::path::PathBuf;

/// `prova`: open every day 08:00–12:00 (3 desks) at `sede` and 08:00–10:00 (1 desk) at `piccolo`.
pub const PROVA: &str = r##"
slug = "prova"
name = "Comune di Prova"
privacy_notice_version = "test-1"
[branding]
primary_color = "#123456"
# The races send hundreds of requests from one address: no anti-hoarding limits here.
[limits]
holds_per_client = 0
holds_per_minute = 0
bookings_per_minute = 0

[[services]]
slug = "visita"
name = { it = "Visita", en = "Visit" }
description = { it = "Un appuntamento", en = "An appointment" }
duration_minutes = 30
modes = ["in_person", "skype", "whatsapp", "teams"]
horizon_days = 30

[[services]]
slug = "lunga"
name = { it = "Pratica lunga", en = "Long case" }
description = { it = "Un'ora", en = "One hour" }
duration_minutes = 60
modes = ["in_person"]
horizon_days = 30

[[services]]
slug = "con-cf"
name = { it = "Con codice fiscale", en = "With fiscal code" }
description = { it = "Serve il codice fiscale", en = "Needs the fiscal code" }
duration_minutes = 30
modes = ["in_person"]
fiscal_code_required = true
reasons = [{ key = "rinnovo", label = { it = "Rinnovo", en = "Renewal" } }]
[[services.fields]]
key = "notice_number"
label = { it = "Numero avviso", en = "Notice number" }
kind = "digits"
min_length = 18
max_length = 18
required = true

[[services]]
slug = "sospeso"
name = { it = "Sospeso", en = "Suspended" }
description = { it = "Non prenotabile", en = "Not bookable" }
duration_minutes = 30
modes = ["in_person"]
active = false

[[offices]]
slug = "sede"
name = "Sede"
address = "Via Roma 1"
modes = ["in_person", "skype", "whatsapp", "teams"]
services = ["visita", "lunga", "con-cf", "sospeso"]
[offices.hours]
mon = [{ from = "08:00", to = "12:00", desks = 3 }]
tue = [{ from = "08:00", to = "12:00", desks = 3 }]
wed = [{ from = "08:00", to = "12:00", desks = 3 }]
thu = [{ from = "08:00", to = "12:00", desks = 3 }]
fri = [{ from = "08:00", to = "12:00", desks = 3 }]
sat = [{ from = "08:00", to = "12:00", desks = 3 }]
sun = [{ from = "08:00", to = "12:00", desks = 3 }]

[[offices]]
slug = "piccolo"
name = "Sportello piccolo"
address = "Via Verdi 2"
modes = ["in_person", "whatsapp"]
services = ["visita"]
national_holidays = false
[offices.hours]
mon = [{ from = "08:00", to = "10:00", desks = 1 }]
tue = [{ from = "08:00", to = "10:00", desks = 1 }]
wed = [{ from = "08:00", to = "10:00", desks = 1 }]
thu = [{ from = "08:00", to = "10:00", desks = 1 }]
fri = [{ from = "08:00", to = "10:00", desks = 1 }]
sat = [{ from = "08:00", to = "10:00", desks = 1 }]
sun = [{ from = "08:00", to = "10:00", desks = 1 }]
"##;

/// `altro`: another tenant using the same service and office slugs, for isolation tests.
pub const ALTRO: &str = r##"
slug = "altro"
name = "Altro Ente"
privacy_notice_version = "test-1"
[branding]
primary_color = "#654321"
[[services]]
slug = "visita"
name = { it = "Visita" }
description = { it = "Un appuntamento" }
duration_minutes = 30
modes = ["in_person"]
[[offices]]
slug = "sede"
name = "Sede dell'altro ente"
address = "Via Milano 3"
modes = ["in_person"]
services = ["visita"]
[offices.hours]
tue = [{ from = "08:00", to = "12:00", desks = 3 }]
"##;

/// `limitato`: the anti-hoarding limits switched on, small enough to reach in a test.
pub const LIMITATO: &str = r##"
slug = "limitato"
name = "Ente con limiti"
privacy_notice_version = "test-1"
[branding]
primary_color = "#336699"
[limits]
holds_per_client = 2
holds_per_minute = 4
bookings_per_minute = 3
[[services]]
slug = "visita"
name = { it = "Visita" }
description = { it = "Un appuntamento" }
duration_minutes = 30
modes = ["in_person"]
max_active_bookings_per_person = 1
[[offices]]
slug = "sede"
name = "Sede"
address = "Via Napoli 4"
modes = ["in_person"]
services = ["visita"]
national_holidays = false
[offices.hours]
mon = [{ from = "08:00", to = "12:00", desks = 5 }]
tue = [{ from = "08:00", to = "12:00", desks = 5 }]
wed = [{ from = "08:00", to = "12:00", desks = 5 }]
thu = [{ from = "08:00", to = "12:00", desks = 5 }]
fri = [{ from = "08:00", to = "12:00", desks = 5 }]
"##;

/// Writes a pack folder `<temp>/<unique>/<slug>/tenant.toml` and returns the pack folder.
pub fn write_pack(slug: &str, manifest: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("sportello-tests").join(uuid::Uuid::new_v4().simple().to_string()).join(slug);
    std::fs::create_dir_all(&dir).expect("create pack folder");
    std::fs::write(dir.join("tenant.toml"), manifest).expect("write tenant.toml");
    dir
}

/// Like `write_pack`, with more files of the pack (e.g. `plugins/x.wasm`).
pub fn write_pack_with(slug: &str, manifest: &str, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let dir = write_pack(slug, manifest);
    for (path, bytes) in files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("folder")).expect("create folder");
        std::fs::write(target, bytes).expect("write file");
    }
    dir
}

pub fn write_test_packs() -> Vec<PathBuf> {
    vec![write_pack("prova", PROVA), write_pack("altro", ALTRO), write_pack("limitato", LIMITATO)]
}
