//! A tenant's configuration as files: `GET /admin/t/{tenant}/pack` exports it as a pack
//! archive, `PUT` imports one as the next version; datasets and plugin modules are uploaded
//! one at a time.

use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Binary;
use poem_openapi::{ApiResponse, OpenApi};

use super::{AdminApi, AdminTag, ApiResult, Saved, StaffToken, saved};
use crate::app::{AppError, PluginUpload, StaffSession};
use crate::domain::Role;

pub struct PacksApi {
    pub admin: AdminApi,
}

#[derive(ApiResponse)]
pub enum Pack {
    /// The pack archive (`.tar.gz` of the folder `<slug>/`), as `sportello tenant apply` reads it.
    #[oai(status = 200, content_type = "application/gzip")]
    Ok(Binary<Vec<u8>>, #[oai(header = "Content-Disposition")] String),
}

impl PacksApi {
    /// Who changes a file of `tenant` (its admin), and the version they changed.
    async fn file_change(
        &self,
        request: &poem::Request,
        auth: &StaffToken,
        tenant: &str,
        version: &Header<Option<String>>,
    ) -> Result<(StaffSession, Option<i64>), AppError> {
        let session = self.admin.session(auth, request).await?;
        self.admin.app.tenant_for(&session, tenant, Role::TenantAdmin).await?;
        Ok((session, super::if_match(version.0.as_deref())?))
    }
}

#[OpenApi(prefix_path = "/admin")]
impl PacksApi {
    /// The configuration in force as a pack archive: tenant.toml, logo, plugin modules, datasets
    /// and page templates.
    #[oai(path = "/t/:tenant/pack", method = "get", tag = "AdminTag::TenantAdmin")]
    async fn export(&self, request: &poem::Request, auth: StaffToken, tenant: Path<String>) -> ApiResult<Pack> {
        let session = self.admin.session(&auth, request).await?;
        let pack = self.admin.app.export_pack(&session, &tenant).await?;
        let disposition = format!("attachment; filename=\"{}\"", pack.file_name);
        Ok(Pack::Ok(Binary(pack.bytes), disposition))
    }

    /// Imports a pack archive (its folder must be this tenant's) as the next version: checked
    /// whole like any save, `If-Match` naming the version replaced, and the choice for bookings
    /// it would strand. Archives that unpack to more than 40 MiB are refused.
    #[oai(path = "/t/:tenant/pack", method = "put", tag = "AdminTag::TenantAdmin")]
    #[allow(clippy::too_many_arguments)] // one per parameter of the operation
    async fn import(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        #[oai(name = "If-Match")] version: Header<Option<String>>,
        stranded: Query<Option<String>>,
        cancel_reason: Query<Option<String>>,
        body: Binary<Vec<u8>>,
    ) -> ApiResult<Saved> {
        let (session, expected, policy) =
            self.admin.change(request, &auth, &tenant, &version, &stranded, &cancel_reason).await?;
        Ok(saved(self.admin.app.import_pack(&session, &tenant, expected, &body.0, &policy).await?))
    }

    /// Replaces dataset `name` with the body (a CSV whose first line names the columns and whose
    /// first column is the key), or adds it. A CSV that does not read is refused with its line.
    #[oai(path = "/t/:tenant/datasets/:name", method = "put", tag = "AdminTag::TenantAdmin")]
    async fn put_dataset(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        name: Path<String>,
        #[oai(name = "If-Match")] version: Header<Option<String>>,
        body: Binary<Vec<u8>>,
    ) -> ApiResult<Saved> {
        let (session, expected) = self.file_change(request, &auth, &tenant, &version).await?;
        Ok(saved(self.admin.app.upload_dataset(&session, &tenant, expected, &name, body.0).await?))
    }

    /// Removes dataset `name`; a plugin that reads it finds no rows.
    #[oai(path = "/t/:tenant/datasets/:name", method = "delete", tag = "AdminTag::TenantAdmin")]
    async fn delete_dataset(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        name: Path<String>,
        #[oai(name = "If-Match")] version: Header<Option<String>>,
    ) -> ApiResult<Saved> {
        let (session, expected) = self.file_change(request, &auth, &tenant, &version).await?;
        Ok(saved(self.admin.app.remove_dataset(&session, &tenant, expected, &name).await?))
    }

    /// Replaces the WebAssembly module of plugin `plugin` with the body, or adds the plugin; a
    /// module that does not compile or does not speak the plugin interface is refused and nothing
    /// changes. `citizen_fields` (comma-separated: `first_name`, `last_name`, `email`, `phone`,
    /// `fiscal_code`; empty for none) sets what the plugin is shown of the citizen; left out, an
    /// existing plugin keeps what it sees and a new one sees nothing.
    #[oai(path = "/t/:tenant/plugins/:plugin", method = "put", tag = "AdminTag::TenantAdmin")]
    #[allow(clippy::too_many_arguments)] // one per parameter of the operation
    async fn put_plugin(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        plugin: Path<String>,
        #[oai(name = "If-Match")] version: Header<Option<String>>,
        citizen_fields: Query<Option<String>>,
        body: Binary<Vec<u8>>,
    ) -> ApiResult<Saved> {
        let (session, expected) = self.file_change(request, &auth, &tenant, &version).await?;
        let citizen_fields = citizen_fields
            .0
            .map(|listed| listed.split(',').map(str::trim).filter(|f| !f.is_empty()).map(str::to_owned).collect());
        let upload = PluginUpload { id: plugin.0, module: body.0, citizen_fields };
        Ok(saved(self.admin.app.upload_plugin(&session, &tenant, expected, upload).await?))
    }

    /// Removes plugin `plugin`; refused (422) while a service uses it.
    #[oai(path = "/t/:tenant/plugins/:plugin", method = "delete", tag = "AdminTag::TenantAdmin")]
    async fn delete_plugin(
        &self,
        request: &poem::Request,
        auth: StaffToken,
        tenant: Path<String>,
        plugin: Path<String>,
        #[oai(name = "If-Match")] version: Header<Option<String>>,
    ) -> ApiResult<Saved> {
        let (session, expected) = self.file_change(request, &auth, &tenant, &version).await?;
        Ok(saved(self.admin.app.remove_plugin(&session, &tenant, expected, &plugin).await?))
    }
}
