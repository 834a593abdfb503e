//! The operator console at `/console` (issue 14): a server-rendered page over the
//! engine's operator controls ([`Operator`]: the same statuses, resume, replay and
//! removal as `/admin`) and the store's topics, for an operator's browser.
//!
//! * `GET /console`: the page — hubs (halted and retrying first: state, owner, callback
//!   host, lag, last attempt and its answer), a hub's detail (attempt log, replay from
//!   a sequence or an `eventTime`), topics (events, first/last sequence); the panels
//!   refresh themselves (htmx polling `GET /console/panels/{hubs,topics}` and
//!   `GET /console/hubs/{id}/live`).
//! * `POST /console/hubs/{id}/{resume,replay,delete}`: the actions (form fields `csrf`,
//!   and for a replay `from` or `fromTime`); answered with the refreshed hubs panel
//!   (htmx) or a redirect to the page.
//! * `POST /console/login` (`token`), `POST /console/logout`: browser sessions
//!   ([`session`]). With authentication on, the console needs the admin role, exactly
//!   as `/admin`.
//! * `GET /console/assets/{htmx.min.js,htmx.LICENSE,console.css}`: compiled in.
//!
//! Every answer carries a Content-Security-Policy allowing only the console's own
//! scripts, styles and requests (no inline script, no external request), and is not
//! cached or framed.

mod assets;
mod session;
mod views;

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::middleware::map_response;
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use http::{HeaderMap, HeaderValue, StatusCode, header};

use self::session::{Access, Denied, Sessions, Via, check_action, same_origin};
use self::views::{
    Detail, DetailLive, Flash, HubsPanel, Login, MAX_ROWS, Page, TopicRow, TopicsPanel,
};
use crate::auth::Authenticator;
use crate::config::ConsoleSection;
use crate::delivery::{AdminError, DeliveryState, HubStatus, Operator, ReplayFrom};
use crate::service::Hub688;
use crate::store::Store;

/// What every console answer is allowed to load: only its own files.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

struct Console<S> {
    hub: Arc<Hub688<S>>,
    operator: Arc<dyn Operator>,
    sessions: Sessions,
}

/// The console's routes (mounted by [`crate::app_with`] when an engine is attached
/// and `[console] enabled`).
pub(crate) fn router<S: Store>(
    hub: Arc<Hub688<S>>,
    operator: Arc<dyn Operator>,
    auth: Option<Arc<Authenticator>>,
    config: &ConsoleSection,
) -> Router {
    let console = Arc::new(Console {
        hub,
        operator,
        sessions: Sessions::new(auth, config),
    });
    Router::new()
        .route("/console", get(page::<S>))
        .route("/console/login", post(login::<S>))
        .route("/console/logout", post(logout::<S>))
        .route("/console/panels/hubs", get(hubs_panel::<S>))
        .route("/console/panels/topics", get(topics_panel::<S>))
        .route("/console/hubs/{id}", get(detail::<S>))
        .route("/console/hubs/{id}/live", get(detail_live::<S>))
        .route("/console/hubs/{id}/{action}", post(action::<S>))
        .route("/console/assets/{name}", get(assets::asset))
        .with_state(console)
        .layer(map_response(secure_headers))
}

async fn secure_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Not `no-referrer`: with it browsers send `Origin: null` on form posts, and the
    // actions' same-origin check needs the real origin.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// A rendered template as an HTML answer (500, logged, if it does not render).
fn html(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
    match rendered {
        Ok(body) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "console: a template did not render");
            (StatusCode::INTERNAL_SERVER_ERROR, "the console failed").into_response()
        }
    }
}

fn see_other(location: &'static str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, HeaderValue::from_static(location))],
    )
        .into_response()
}

/// The login form (401: the page needs credentials).
fn login_form(error: Option<String>) -> Response {
    html(StatusCode::UNAUTHORIZED, Login { error }.render())
}

/// The answer to a caller not let in: the login form for the page; for a panel, 401
/// and (htmx) `HX-Redirect` to the page, whose login form then shows.
fn denied(denied: Denied, headers: &HeaderMap, page: bool) -> Response {
    match denied {
        Denied::Answer(response) => *response,
        Denied::Login if page => login_form(None),
        Denied::Login if is_htmx(headers) => (
            StatusCode::UNAUTHORIZED,
            [("hx-redirect", HeaderValue::from_static("/console"))],
        )
            .into_response(),
        Denied::Login => see_other("/console"),
    }
}

/// The status and message for an operator error (the store's failure logged, not shown).
fn failure(error: &AdminError) -> (StatusCode, String) {
    match error {
        AdminError::NotFound(_) | AdminError::Missing(_) => {
            (StatusCode::NOT_FOUND, error.to_string())
        }
        AdminError::Invalid(_) => (StatusCode::BAD_REQUEST, error.to_string()),
        AdminError::Conflict(_) => (StatusCode::CONFLICT, error.to_string()),
        AdminError::Gone(_) => (StatusCode::GONE, error.to_string()),
        AdminError::Store(_) => {
            tracing::error!(%error, "console");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the store failed; try again later".into(),
            )
        }
    }
}

impl<S: Store> Console<S> {
    async fn statuses(&self) -> Result<Vec<HubStatus>, (StatusCode, String)> {
        self.operator.hub_statuses().await.map_err(|e| failure(&e))
    }

    async fn hubs(&self, access: &Access, flash: Option<Flash>) -> HubsPanel {
        let csrf = access.csrf.clone().unwrap_or_default();
        match self.statuses().await {
            Ok(statuses) => HubsPanel::new(statuses, csrf, flash),
            Err((_, message)) => HubsPanel::new(Vec::new(), csrf, Some(Flash::error(message))),
        }
    }

    /// The topics panel; hub counts from `statuses`.
    async fn topics(&self, statuses: &[HubStatus]) -> TopicsPanel {
        let store = self.hub.store();
        let topics = match store.topics().await {
            Ok(topics) => topics,
            Err(error) => {
                tracing::error!(%error, "console: topics");
                return TopicsPanel {
                    rows: Vec::new(),
                    more: 0,
                    error: Some("the store failed; try again later".into()),
                };
            }
        };
        let mut hubs: HashMap<&str, (usize, usize)> = HashMap::new();
        for status in statuses {
            let entry = hubs.entry(status.topic_id.as_str()).or_default();
            entry.0 += 1;
            entry.1 += usize::from(status.state == DeliveryState::Halted);
        }
        // Retention's limits per topic (none when retention is not attached).
        let limits: HashMap<String, crate::delivery::retention::Limits> = self
            .operator
            .topic_logs()
            .await
            .map(|logs| {
                logs.into_iter()
                    .filter_map(|log| Some((log.topic_id, log.retention?)))
                    .collect()
            })
            .unwrap_or_default();
        let mut rows = Vec::new();
        for topic in topics.iter().take(MAX_ROWS) {
            // A topic deleted meanwhile reads as empty rather than failing the panel.
            let bounds = store.log_bounds(&topic.id).await.unwrap_or_default();
            let (count, halted) = hubs.get(topic.id.as_str()).copied().unwrap_or_default();
            rows.push(TopicRow {
                id: topic.id.clone(),
                name: topic.name.clone(),
                // Retention removes a prefix: the log holds first ..= last.
                events: bounds.len(),
                first: (!bounds.is_empty()).then_some(bounds.first),
                last: bounds.head,
                hubs: count,
                halted,
                retention: limits.get(&topic.id).map(|limits| limits.in_words()),
            });
        }
        TopicsPanel {
            more: topics.len() - rows.len(),
            rows,
            error: None,
        }
    }

    async fn page(&self, access: &Access, flash: Option<Flash>, detail: Option<Detail>) -> Page {
        let csrf = access.csrf.clone().unwrap_or_default();
        let (topics, hubs) = match self.statuses().await {
            Ok(statuses) => (
                self.topics(&statuses).await,
                HubsPanel::new(statuses, csrf.clone(), flash),
            ),
            Err((_, message)) => (
                self.topics(&[]).await,
                HubsPanel::new(Vec::new(), csrf.clone(), Some(Flash::error(message))),
            ),
        };
        Page {
            who: access.who.clone(),
            logout: matches!(access.via, Via::Session(_)),
            csrf,
            hubs,
            topics,
            detail,
        }
    }

    /// The polled part of a hub's detail, with its dead letters.
    async fn detail_live(&self, status: &HubStatus, csrf: String) -> DetailLive {
        let dead_letters = self
            .operator
            .dead_letters(&status.hub_id)
            .await
            .map(|letters| letters.iter().map(views::DeadLetterRow::new).collect())
            .map_err(|error| failure(&error).1);
        DetailLive::new(status, dead_letters, csrf)
    }

    /// One hub's status, or the error page/fragment for it.
    async fn hub_status(
        &self,
        path: Result<Path<String>, PathRejection>,
    ) -> Result<HubStatus, Box<Response>> {
        let id = hub_id(path)?;
        let statuses = self
            .statuses()
            .await
            .map_err(|(status, message)| Box::new(flash_response(status, message)))?;
        statuses
            .into_iter()
            .find(|status| status.hub_id == id)
            .ok_or_else(|| Box::new(failure_response(&AdminError::NotFound(id))))
    }
}

/// A fragment saying what went wrong, with `status`.
fn flash_response(status: StatusCode, message: String) -> Response {
    html(
        status,
        views::FlashOnly {
            flash: Flash::error(message),
        }
        .render(),
    )
}

fn failure_response(error: &AdminError) -> Response {
    let (status, message) = failure(error);
    flash_response(status, message)
}

fn hub_id(path: Result<Path<String>, PathRejection>) -> Result<String, Box<Response>> {
    let Path(id) =
        path.map_err(|rejection| failure_response(&AdminError::Invalid(rejection.body_text())))?;
    crate::limits::path_id("hub", &id)
        .map_err(|_| failure_response(&AdminError::NotFound(id.clone())))?;
    Ok(id)
}

async fn page<S: Store>(State(console): State<Arc<Console<S>>>, headers: HeaderMap) -> Response {
    let access = match console.sessions.authorize(&headers) {
        Ok(access) => access,
        Err(denial) => return denied(denial, &headers, true),
    };
    html(
        StatusCode::OK,
        console.page(&access, None, None).await.render(),
    )
}

async fn hubs_panel<S: Store>(
    State(console): State<Arc<Console<S>>>,
    headers: HeaderMap,
) -> Response {
    let access = match console.sessions.authorize(&headers) {
        Ok(access) => access,
        Err(denial) => return denied(denial, &headers, false),
    };
    html(StatusCode::OK, console.hubs(&access, None).await.render())
}

async fn topics_panel<S: Store>(
    State(console): State<Arc<Console<S>>>,
    headers: HeaderMap,
) -> Response {
    if let Err(denial) = console.sessions.authorize(&headers) {
        return denied(denial, &headers, false);
    }
    let statuses = console.statuses().await.unwrap_or_default();
    html(StatusCode::OK, console.topics(&statuses).await.render())
}

async fn detail<S: Store>(
    State(console): State<Arc<Console<S>>>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let access = match console.sessions.authorize(&headers) {
        Ok(access) => access,
        Err(denial) => return denied(denial, &headers, !is_htmx(&headers)),
    };
    let status = match console.hub_status(path).await {
        Ok(status) => status,
        Err(response) => return *response,
    };
    let csrf = access.csrf.clone().unwrap_or_default();
    let detail = Detail {
        hub: views::HubRow::new(&status),
        live: console.detail_live(&status, csrf.clone()).await,
        csrf,
    };
    if is_htmx(&headers) {
        html(StatusCode::OK, detail.render())
    } else {
        // A link opened without htmx: the whole page, with this hub's detail.
        html(
            StatusCode::OK,
            console.page(&access, None, Some(detail)).await.render(),
        )
    }
}

async fn detail_live<S: Store>(
    State(console): State<Arc<Console<S>>>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let access = match console.sessions.authorize(&headers) {
        Ok(access) => access,
        Err(denial) => return denied(denial, &headers, false),
    };
    match console.hub_status(path).await {
        Ok(status) => {
            let csrf = access.csrf.clone().unwrap_or_default();
            html(
                StatusCode::OK,
                console.detail_live(&status, csrf).await.render(),
            )
        }
        Err(response) => *response,
    }
}

/// The form fields of a request body (`application/x-www-form-urlencoded`).
fn form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

async fn login<S: Store>(
    State(console): State<Arc<Console<S>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = same_origin(&headers) {
        return *response;
    }
    if !console.sessions.login_required() {
        return see_other("/console");
    }
    let form = form(&body);
    match console
        .sessions
        .login(field(&form, "token").unwrap_or_default())
    {
        Ok(cookie) => {
            let mut response = see_other("/console");
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            response
        }
        Err(why) => {
            tracing::info!(why, "console: login refused");
            login_form(Some(why))
        }
    }
}

async fn logout<S: Store>(
    State(console): State<Arc<Console<S>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let access = match console.sessions.authorize(&headers) {
        Ok(access) => access,
        Err(_) => return see_other("/console"),
    };
    let form = form(&body);
    if let Err(response) = check_action(&access, &headers, field(&form, "csrf")) {
        return *response;
    }
    let mut response = see_other("/console");
    if let Some(cookie) = console.sessions.logout(&access) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

async fn action<S: Store>(
    State(console): State<Arc<Console<S>>>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
    body: Bytes,
) -> Response {
    let access = match console.sessions.authorize(&headers) {
        Ok(access) => access,
        Err(denial) => return denied(denial, &headers, false),
    };
    let form = form(&body);
    if let Err(response) = check_action(&access, &headers, field(&form, "csrf")) {
        return *response;
    }
    let outcome = match path {
        Err(rejection) => Err(AdminError::Invalid(rejection.body_text())),
        Ok(Path((id, action))) => run_action(&*console.operator, &id, &action, &form).await,
    };
    let (status, flash) = match outcome {
        Ok(text) => {
            tracing::info!(principal = %access.who, "console: {text}");
            (StatusCode::OK, Flash::ok(text))
        }
        Err(error) => {
            let (status, message) = failure(&error);
            (status, Flash::error(message))
        }
    };
    if is_htmx(&headers) {
        html(status, console.hubs(&access, Some(flash)).await.render())
    } else if status.is_success() {
        see_other("/console")
    } else {
        html(
            status,
            console.page(&access, Some(flash), None).await.render(),
        )
    }
}

/// Runs `action` on hub `id`: what was done, in words.
async fn run_action(
    operator: &dyn Operator,
    id: &str,
    action: &str,
    form: &[(String, String)],
) -> Result<String, AdminError> {
    crate::limits::path_id("hub", id).map_err(|_| AdminError::NotFound(id.to_owned()))?;
    match action {
        "resume" => {
            operator.resume(id).await?;
            Ok(format!(
                "hub {id} resumed: delivery continues from its cursor"
            ))
        }
        "replay" => {
            // Empty fields of the form are not given; exactly one of the others is.
            let params = form
                .iter()
                .filter(|(name, value)| name != "csrf" && !value.trim().is_empty())
                .map(|(name, value)| (name.as_str(), value.trim()));
            let from = ReplayFrom::from_params(params).map_err(AdminError::Invalid)?;
            let seq = operator.replay(id, from).await?;
            Ok(format!("hub {id} replays from sequence {seq}"))
        }
        "delete" => {
            operator.delete_hub(id).await?;
            Ok(format!("hub {id} deleted"))
        }
        "replay-dead-letter" => {
            let letter = field(form, "deadLetter")
                .map(str::trim)
                .filter(|letter| !letter.is_empty())
                .ok_or_else(|| AdminError::Invalid("which dead letter? (deadLetter)".into()))?;
            let replay = operator.replay_dead_letter(id, letter).await?;
            let gone = replay.gone.map_or_else(String::new, |gone| {
                format!("; {}–{} no longer in the log", gone.first, gone.last)
            });
            Ok(format!(
                "hub {id} re-sends dead letter {}: sequences {}–{} from {}{gone}",
                crate::limits::shown(letter),
                replay.resent.first,
                replay.resent.last,
                replay.from
            ))
        }
        other => Err(AdminError::Invalid(format!(
            "the console has no action {} (resume, replay, replay-dead-letter, delete)",
            crate::limits::shown(other)
        ))),
    }
}
