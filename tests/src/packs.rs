//! Tenant packs for the tests, built from what each test cares about; everything else has a
//! default. `Pack::toml` writes the manifest, `Pack::write` a pack folder in a temporary place.

use std::fmt::Write;
use std::path::PathBuf;

/// A tenant pack under construction.
#[derive(Clone)]
pub struct Pack {
    slug: String,
    name: String,
    color: String,
    settings: Vec<String>,
    limits: Option<[u32; 3]>,
    mail: Vec<String>,
    plugins: Vec<String>,
    services: Vec<Service>,
    offices: Vec<Office>,
}

/// A service: 30 minutes, in person, unless told otherwise.
#[derive(Clone)]
pub struct Service {
    slug: String,
    lines: Vec<String>,
    fields: Vec<String>,
}

/// An office with its hours.
#[derive(Clone)]
pub struct Office {
    slug: String,
    lines: Vec<String>,
    hours: Vec<String>,
}

const WEEK: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn quoted(items: &[&str]) -> String {
    items.iter().map(|i| format!("{i:?}")).collect::<Vec<_>>().join(", ")
}

impl Pack {
    pub fn new(slug: &str, name: &str) -> Self {
        Self {
            slug: slug.to_owned(),
            name: name.to_owned(),
            color: "#123456".to_owned(),
            settings: Vec::new(),
            limits: None,
            mail: Vec::new(),
            plugins: Vec::new(),
            services: Vec::new(),
            offices: Vec::new(),
        }
    }

    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }

    pub fn color(mut self, color: &str) -> Self {
        self.color = color.to_owned();
        self
    }

    /// Any other top-level setting, as a TOML line (`hold_seconds = 10`).
    pub fn setting(mut self, line: &str) -> Self {
        self.settings.push(line.to_owned());
        self
    }

    /// The anti-hoarding limits: live holds per client, holds and bookings per minute (0: none).
    pub fn limits(mut self, holds_per_client: u32, holds_per_minute: u32, bookings_per_minute: u32) -> Self {
        self.limits = Some([holds_per_client, holds_per_minute, bookings_per_minute]);
        self
    }

    /// How its e-mails go out: lines of `[mail]` (`reply_to = "urp@ente.test"`).
    pub fn mail(mut self, lines: &[&str]) -> Self {
        self.mail = lines.iter().map(|l| (*l).to_owned()).collect();
        self
    }

    /// No anti-hoarding limits: races send hundreds of requests from one address.
    pub fn unlimited(self) -> Self {
        self.limits(0, 0, 0)
    }

    /// A plugin module at `plugins/<id>.wasm`, with more TOML lines of its entry.
    pub fn plugin(mut self, id: &str, lines: &[&str]) -> Self {
        let mut entry = format!("[[plugins]]\nid = {id:?}\nfile = \"plugins/{id}.wasm\"\n");
        lines.iter().for_each(|l| entry.push_str(&format!("{l}\n")));
        self.plugins.push(entry);
        self
    }

    pub fn service(mut self, service: Service) -> Self {
        self.services.push(service);
        self
    }

    pub fn office(mut self, office: Office) -> Self {
        self.offices.push(office);
        self
    }

    /// The pack without service `slug`, in its offices too.
    pub fn without_service(mut self, slug: &str) -> Self {
        self.services.retain(|s| s.slug != slug);
        for office in &mut self.offices {
            for line in office.lines.iter_mut().filter(|l| l.starts_with("services = ")) {
                *line = line.replace(&format!("{slug:?}, "), "").replace(&format!(", {slug:?}"), "");
            }
        }
        self
    }

    /// Changes office `slug`.
    pub fn change_office(mut self, slug: &str, change: impl FnOnce(Office) -> Office) -> Self {
        if let Some(at) = self.offices.iter().position(|o| o.slug == slug) {
            let office = self.offices.remove(at);
            self.offices.insert(at, change(office));
        }
        self
    }

    pub fn toml(&self) -> String {
        let mut text = format!("slug = {:?}\nname = {:?}\nprivacy_notice_version = \"test-1\"\n", self.slug, self.name);
        self.settings.iter().for_each(|l| text.push_str(&format!("{l}\n")));
        let _ = writeln!(text, "[branding]\nprimary_color = {:?}", self.color);
        if let Some([per_client, holds, bookings]) = self.limits {
            let _ = writeln!(
                text,
                "[limits]\nholds_per_client = {per_client}\nholds_per_minute = {holds}\nbookings_per_minute = {bookings}"
            );
        }
        if !self.mail.is_empty() {
            let _ = writeln!(text, "[mail]\n{}", self.mail.join("\n"));
        }
        self.plugins.iter().for_each(|p| text.push_str(p));
        for service in &self.services {
            let _ = writeln!(text, "[[services]]\nslug = {:?}", service.slug);
            service.lines.iter().for_each(|l| text.push_str(&format!("{l}\n")));
            service.fields.iter().for_each(|f| text.push_str(f));
        }
        for office in &self.offices {
            let _ = writeln!(text, "[[offices]]\nslug = {:?}", office.slug);
            office.lines.iter().for_each(|l| text.push_str(&format!("{l}\n")));
            text.push_str("[offices.hours]\n");
            office.hours.iter().for_each(|h| text.push_str(&format!("{h}\n")));
        }
        text
    }

    /// Writes the pack folder `<temp>/<unique>/<slug>/tenant.toml`; returns the pack folder.
    pub fn write(&self) -> PathBuf {
        write_pack(&self.slug, &self.toml())
    }

    /// Like `write`, with more files of the pack (e.g. `plugins/x.wasm`).
    pub fn write_with(&self, files: &[(&str, Vec<u8>)]) -> PathBuf {
        write_pack_with(&self.slug, &self.toml(), files)
    }
}

impl Service {
    /// A 30-minute service in person, named `name` in Italian.
    pub fn new(slug: &str, name: &str) -> Self {
        Self {
            slug: slug.to_owned(),
            lines: vec![
                format!("name = {{ it = {name:?} }}"),
                "description = { it = \"Un appuntamento\" }".to_owned(),
                "duration_minutes = 30".to_owned(),
                "modes = [\"in_person\"]".to_owned(),
            ],
            fields: Vec::new(),
        }
    }

    fn set(mut self, key: &str, line: String) -> Self {
        self.lines.retain(|l| !l.starts_with(&format!("{key} = ")));
        self.lines.push(line);
        self
    }

    /// The name in Italian and English.
    pub fn names(self, it: &str, en: &str) -> Self {
        self.set("name", format!("name = {{ it = {it:?}, en = {en:?} }}"))
    }

    pub fn description(self, it: &str, en: &str) -> Self {
        self.set("description", format!("description = {{ it = {it:?}, en = {en:?} }}"))
    }

    pub fn duration(self, minutes: u16) -> Self {
        self.set("duration_minutes", format!("duration_minutes = {minutes}"))
    }

    pub fn modes(self, modes: &[&str]) -> Self {
        self.set("modes", format!("modes = [{}]", quoted(modes)))
    }

    /// Any other key of the service, as a TOML line (`horizon_days = 30`).
    pub fn with(mut self, line: &str) -> Self {
        self.lines.push(line.to_owned());
        self
    }

    /// A digits field the service asks for, of `min..=max` digits.
    pub fn digits_field(mut self, key: &str, label: &str, (min, max): (u16, u16), required: bool) -> Self {
        self.fields.push(format!(
            "[[services.fields]]\nkey = {key:?}\nlabel = {{ it = {label:?} }}\nkind = \"digits\"\nmin_length = {min}\nmax_length = {max}\nrequired = {required}\n"
        ));
        self
    }
}

impl Office {
    /// An office in person only, with no hours yet.
    pub fn new(slug: &str, name: &str, address: &str, services: &[&str]) -> Self {
        Self {
            slug: slug.to_owned(),
            lines: vec![
                format!("name = {name:?}"),
                format!("address = {address:?}"),
                "modes = [\"in_person\"]".to_owned(),
                format!("services = [{}]", quoted(services)),
            ],
            hours: Vec::new(),
        }
    }

    /// Any other key of the office, as a TOML line (`teams_link = "https://…"`).
    pub fn with(mut self, line: &str) -> Self {
        self.lines.push(line.to_owned());
        self
    }

    pub fn modes(mut self, modes: &[&str]) -> Self {
        self.lines.retain(|l| !l.starts_with("modes = "));
        self.lines.push(format!("modes = [{}]", quoted(modes)));
        self
    }

    /// Open on `days` (`mon`…`sun`) from `from` to `to` with `desks` desks.
    pub fn open(mut self, days: &[&str], from: &str, to: &str, desks: u32) -> Self {
        self.hours.retain(|h| !days.iter().any(|d| h.starts_with(&format!("{d} = "))));
        for day in days {
            self.hours.push(format!("{day} = [{{ from = {from:?}, to = {to:?}, desks = {desks} }}]"));
        }
        self
    }

    /// Open on `days` twice a day: a morning and an afternoon, each `(from, to, desks)`.
    pub fn afternoons(mut self, days: &[&str], morning: (&str, &str, u32), afternoon: (&str, &str, u32)) -> Self {
        let interval =
            |(from, to, desks): (&str, &str, u32)| format!("{{ from = {from:?}, to = {to:?}, desks = {desks} }}");
        for day in days {
            self.hours.push(format!("{day} = [{}, {}]", interval(morning), interval(afternoon)));
        }
        self
    }

    /// Open every day of the week.
    pub fn every_day(self, from: &str, to: &str, desks: u32) -> Self {
        self.open(&WEEK, from, to, desks)
    }

    /// Open on national holidays too, so that tests on any date find slots.
    pub fn no_holidays(mut self) -> Self {
        self.lines.push("national_holidays = false".to_owned());
        self
    }
}

/// `prova`: open every day 08:00–12:00 (3 desks) at `sede` and 08:00–10:00 (1 desk) at `piccolo`.
pub fn prova() -> Pack {
    let visit_modes = ["in_person", "skype", "whatsapp", "teams"];
    Pack::new("prova", "Comune di Prova")
        .unlimited()
        .service(
            Service::new("visita", "Visita")
                .names("Visita", "Visit")
                .description("Un appuntamento", "An appointment")
                .modes(&visit_modes)
                .with("horizon_days = 30"),
        )
        .service(
            Service::new("lunga", "Pratica lunga")
                .names("Pratica lunga", "Long case")
                .description("Un'ora", "One hour")
                .duration(60)
                .with("horizon_days = 30"),
        )
        .service(
            Service::new("con-cf", "Con codice fiscale")
                .names("Con codice fiscale", "With fiscal code")
                .description("Serve il codice fiscale", "Needs the fiscal code")
                .with("fiscal_code_required = true")
                .with("reasons = [{ key = \"rinnovo\", label = { it = \"Rinnovo\", en = \"Renewal\" } }]")
                .digits_field("notice_number", "Numero avviso", (18, 18), true),
        )
        .service(
            Service::new("sospeso", "Sospeso")
                .names("Sospeso", "Suspended")
                .description("Non prenotabile", "Not bookable")
                .with("active = false"),
        )
        .office(
            Office::new("sede", "Sede", "Via Roma 1", &["visita", "lunga", "con-cf", "sospeso"])
                .modes(&visit_modes)
                .every_day("08:00", "12:00", 3),
        )
        .office(
            Office::new("piccolo", "Sportello piccolo", "Via Verdi 2", &["visita"])
                .modes(&["in_person", "whatsapp"])
                .no_holidays()
                .every_day("08:00", "10:00", 1),
        )
}

/// `altro`: another tenant using the same service and office slugs, for isolation tests.
pub fn altro() -> Pack {
    Pack::new("altro", "Altro Ente").color("#654321").service(Service::new("visita", "Visita")).office(
        Office::new("sede", "Sede dell'altro ente", "Via Milano 3", &["visita"]).open(&["tue"], "08:00", "12:00", 3),
    )
}

/// `limitato`: the anti-hoarding limits switched on, small enough to reach in a test.
pub fn limitato() -> Pack {
    Pack::new("limitato", "Ente con limiti")
        .color("#336699")
        .limits(2, 4, 3)
        .service(Service::new("visita", "Visita").with("max_active_bookings_per_person = 1"))
        .office(Office::new("sede", "Sede", "Via Napoli 4", &["visita"]).no_holidays().open(
            &["mon", "tue", "wed", "thu", "fri"],
            "08:00",
            "12:00",
            5,
        ))
}

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
    vec![prova().write(), altro().write(), limitato().write()]
}
