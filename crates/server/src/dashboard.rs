//! The dashboard: one HTML page, its stylesheet and its script, compiled into the binary. No
//! build step, no CDN: the page works offline.
//!
//! The files are one table ([`FILES`]): one handler serves them and one modifier documents them
//! in the OpenAPI document.

use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use utoipa::Modify;
use utoipa::openapi::path::{HttpMethod, OperationBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, ResponseBuilder};

use crate::error::ApiError;

/// A file of the dashboard: its path, content type, what its route is (the OpenAPI summary),
/// what its answer is, and the file, compiled in.
type File = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// Every file of the dashboard, one a row.
#[rustfmt::skip]
pub(crate) const FILES: [File; 3] = [
    ("/", "text/html; charset=utf-8", "The dashboard (HTML; its script and stylesheet are compiled into the binary).", "HTML page.", include_str!("../assets/index.html")),
    ("/assets/app.js", "text/javascript; charset=utf-8", "The dashboard's script.", "JavaScript.", include_str!("../assets/app.js")),
    ("/assets/app.css", "text/css; charset=utf-8", "The dashboard's stylesheet.", "CSS.", include_str!("../assets/app.css")),
];

/// `GET /`, `/assets/app.js` and `/assets/app.css`: the file of [`FILES`] at the request's path,
/// never cached without asking.
pub(crate) async fn file(uri: Uri) -> Response {
    match FILES.iter().find(|f| f.0 == uri.path()) {
        Some(&(_, content_type, _, _, body)) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response(),
        None => ApiError::NotFound(format!("no dashboard file {}", uri.path())).into_response(),
    }
}

/// Documents each file of [`FILES`] as a `GET` route answering a string of its media type.
pub(crate) struct Files;

impl Modify for Files {
    fn modify(&self, doc: &mut Document) {
        for (path, content_type, summary, description, _) in FILES {
            let media = content_type.split(';').next().unwrap_or(content_type);
            let answer = ResponseBuilder::new().description(description).content(
                media,
                ContentBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build(),
            );
            let op = OperationBuilder::new()
                .tag("dashboard")
                .summary(Some(summary))
                .operation_id(Some(operation_id(path)))
                .response("200", answer);
            doc.paths
                .add_path_operation(path, vec![HttpMethod::Get], op);
        }
    }
}

/// The operation id of a file's route: `index` for the page, else the file name with `_` for
/// `.` (`app_js`).
fn operation_id(path: &str) -> String {
    match path.rsplit('/').next() {
        Some("") | None => "index".to_owned(),
        Some(name) => name.replace('.', "_"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_name_the_files() {
        let ids: Vec<String> = FILES.iter().map(|f| operation_id(f.0)).collect();
        assert_eq!(ids, ["index", "app_js", "app_css"]);
    }
}
