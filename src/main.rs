//! The `helpdesk` command: parse the CLI, load settings, start logging, call the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use helpdesk::app;
use helpdesk::config::Settings;
use helpdesk::domain::Role;
use helpdesk::http::users::check_new_user;
use std::path::PathBuf;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "helpdesk", version, about = "Helpdesk tickets with SLA clocks")]
struct Cli {
    /// TOML settings file (default: ./helpdesk.toml if it exists).
    #[arg(long, global = true, env = "HELPDESK_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (the default). Applies migrations first; on a database without
    /// users, creates an admin and prints its token once.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user and print its token alone on standard output.
    Add {
        #[arg(long)]
        name: String,
        /// admin, supervisor, agent or agency.
        #[arg(long)]
        role: Role,
        /// 1 or 2, for agents.
        #[arg(long)]
        level: Option<i32>,
        /// The agency's id, for agency users.
        #[arg(long)]
        agency: Option<uuid::Uuid>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref()).context("loading settings")?;
    init_logging(&settings);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => {
            app::open_database(&settings)?;
            eprintln!("migrations are up to date");
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    name,
                    role,
                    level,
                    agency,
                },
        } => {
            let (name, role, level) = check_new_user(Some(&name), Some(role), level, agency)
                .map_err(|invalid| anyhow::anyhow!("{invalid}"))?;
            let pool = app::open_database(&settings)?;
            let token = app::add_user(&pool, &name, role, level, agency, chrono::Utc::now())?;
            print_ignoring_closed_pipe(&format!("{token}\n"))
        }
        Command::Openapi => print_ignoring_closed_pipe(helpdesk::http::openapi::openapi_json()),
    }
}

#[actix_web::main]
async fn serve(settings: Settings) -> anyhow::Result<()> {
    // Bind first: a token printed by a process that then fails to serve would be lost.
    let listener = std::net::TcpListener::bind(&settings.bind)
        .with_context(|| format!("binding {}", settings.bind))?;
    let pool = app::open_database(&settings)?;
    if let Some(token) = app::bootstrap_admin(&pool, chrono::Utc::now())? {
        tracing::warn!("no users yet: created user `admin`; its token is printed once on stdout");
        println!("{token}");
    }
    tracing::info!(address = %settings.bind, "helpdesk listening");
    app::start(settings, pool, app::system_clock(), listener)?.await?;
    tracing::info!("helpdesk stopped");
    Ok(())
}

/// Writes to stdout; a reader that went away (`helpdesk openapi | head`) is not an error.
fn print_ignoring_closed_pipe(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn init_logging(settings: &Settings) {
    let filter = EnvFilter::try_from_env("HELPDESK_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    // One line per request when its span closes: method, route, status, request id, timing.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(std::io::stderr);
    if settings.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
