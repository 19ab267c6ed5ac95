//! Staff accounts for tests: made through the application (as `sportello admin create` does),
//! signed in through the admin API, as a client would.

use sportello::domain::Role;

use crate::TestServer;

/// A password that passes the policy, shared by the test accounts.
pub const PASSWORD: &str = "argini e canali 2026";

/// A signed-in staff member: the bearer token and the CSRF token of the session.
#[derive(Clone, Debug)]
pub struct Staff {
    pub email: String,
    pub token: String,
    pub csrf: String,
}

impl Staff {
    /// The session cookie as the server sets it (`Secure`, `__Host-` prefixed).
    pub fn cookie(&self) -> String {
        format!("__Host-sportello-staff={}", self.token)
    }

    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }
}

impl TestServer {
    /// Creates `email` with `role` (in `tenant`, with `offices` for operators) and signs it in.
    pub async fn staff(&self, email: &str, role: Role, tenant: Option<&str>, offices: &[&str]) -> Staff {
        let offices: Vec<String> = offices.iter().map(|o| (*o).to_owned()).collect();
        self.app.create_account(email, role, tenant, &offices, PASSWORD).await.expect("create staff account");
        self.log_in(email, PASSWORD).await
    }

    /// Signs in through `POST /api/v1/admin/session`; panics unless it succeeds.
    pub async fn log_in(&self, email: &str, password: &str) -> Staff {
        let (status, body) = self.try_log_in(email, password, "127.0.0.1").await;
        assert_eq!(status, 201, "{body}");
        Staff {
            email: email.to_owned(),
            token: body["token"].as_str().expect("token").to_owned(),
            csrf: body["csrf_token"].as_str().expect("csrf token").to_owned(),
        }
    }

    /// One login attempt from `client` (an address for X-Forwarded-For): (status, body).
    pub async fn try_log_in(&self, email: &str, password: &str, client: &str) -> (u16, serde_json::Value) {
        let url = format!("{}/api/v1/admin/session", self.base);
        let response = self
            .http
            .post(url)
            .header("x-forwarded-for", client)
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .expect("POST session");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    /// `GET {base}{path}` with the staff member's bearer token.
    pub async fn admin_get(&self, staff: &Staff, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("authorization", staff.bearer())
            .send()
            .await
            .expect("GET");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// `{method} {base}{path}` with the bearer token, `If-Match` and a JSON body when given.
    pub async fn admin_send(
        &self,
        staff: &Staff,
        method: &str,
        path: &str,
        if_match: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let method = method.parse().expect("method");
        let mut request =
            self.http.request(method, format!("{}{path}", self.base)).header("authorization", staff.bearer());
        if let Some(version) = if_match {
            request = request.header("if-match", version);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("admin request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Posts an admin upload form (multipart, with the session's cookie and CSRF token, in
    /// English) at configuration version `version`; the page it ends on, after any redirect.
    pub async fn admin_upload(
        &self,
        staff: &Staff,
        path: &str,
        version: &str,
        form: reqwest::multipart::Form,
    ) -> (u16, String) {
        let form = form.text("csrf", staff.csrf.clone()).text("version", version.to_owned());
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", staff.cookie())
            .header("accept-language", "en")
            .multipart(form)
            .send()
            .await
            .expect("POST upload");
        (response.status().as_u16(), response.text().await.expect("page"))
    }

    /// Posts an admin form (with the session's cookie and CSRF token, in English); the page it
    /// ends on, after any redirect.
    pub async fn admin_form(&self, staff: &Staff, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut form = vec![("csrf", staff.csrf.as_str())];
        form.extend_from_slice(fields);
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", staff.cookie())
            .header("accept-language", "en")
            .form(&form)
            .send()
            .await
            .expect("POST form");
        (response.status().as_u16(), response.text().await.expect("page"))
    }
}
