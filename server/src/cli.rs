//! The command line: `k8x` (or `k8x serve`) runs the server; `k8x user …`, `k8x token …` and
//! `k8x source …` manage users, API tokens and event sources in the configured database, with the same
//! rules as the admin pages (`backend::auth::manage`), and leave a line in the audit trail; `k8x validate`
//! checks service files offline, touching neither config nor database.

use std::{
    io::{BufRead, IsTerminal},
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context as _;
use backend::{
    access::{parse_scopes, Role},
    auth::{manage, password},
    config::Config,
    store::{AuditRecord, Store, WebhookShape},
};
use clap::{Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};

/// k8x: event-driven automation for Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "k8x", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (what `k8x` alone does).
    Serve,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage event sources that sign their requests (webhooks).
    #[command(subcommand)]
    Source(SourceCommand),
    /// Check service files offline: every problem of every file, with file, field, line and column. Exits
    /// non-zero if there is any.
    Validate {
        /// A service directory (one with a `manifest.json`), or a repository of them at any depth.
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; prints a generated password unless `--password-stdin`.
    Add {
        name: String,
        /// admin, operator or viewer.
        #[arg(long, default_value = "viewer")]
        role: Role,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password; prints a generated one unless `--password-stdin`.
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user's role.
    Role { name: String, role: Role },
    /// Remove a user (and revoke their tokens).
    Remove { name: String },
    /// List users.
    List,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (the only time it is shown).
    Create {
        /// What it is for.
        #[arg(long)]
        name: String,
        /// Comma-separated: ingest, read, operate, admin.
        #[arg(long)]
        scopes: String,
        /// The user it acts for.
        #[arg(long, default_value = "admin")]
        owner: String,
    },
    /// List tokens (prefix, owner, scopes, last use).
    List,
    /// Revoke a token by id or prefix.
    Revoke { id_or_prefix: String },
}

#[derive(Debug, Subcommand)]
pub enum SourceCommand {
    /// Register a source and print its secret (the only time it is shown).
    Add {
        name: String,
        /// How its plain webhooks become events: github, gitlab, gitea or minio.
        #[arg(long)]
        preset: Option<String>,
        /// The header that carries the event type (`X-GitHub-Event`).
        #[arg(long)]
        type_header: Option<String>,
        /// The JSON pointer of the body field that is the event type (`/EventName`).
        #[arg(long)]
        type_field: Option<String>,
        /// Put before the event type (`com.github.`).
        #[arg(long)]
        type_prefix: Option<String>,
        /// The header that carries the delivery id; else a hash of the body.
        #[arg(long)]
        id_header: Option<String>,
    },
    /// List sources.
    List,
    /// Remove a source.
    Remove { name: String },
}

/// Runs a management command against the configured database.
pub async fn manage(config: &Config, command: Command) -> anyhow::Result<()> {
    let store = Store::connect(&config.database_url()).await.context("opening the database")?;
    let cipher = backend::secrets::unlock(config, &store).await?;
    let store = store.with_cipher(cipher);
    match command {
        Command::Serve | Command::Validate { .. } => unreachable!("not a management command"),
        Command::User(command) => user(&store, command).await,
        Command::Token(command) => token(&store, command).await,
        Command::Source(command) => source(&store, command).await,
    }
}

async fn user(store: &Store, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { name, role, password_stdin } => {
            let (password, generated) = password_from(password_stdin)?;
            manage::add_user(store, &name, role, password.clone()).await?;
            audit(store, "user-add", &name).await?;
            println!("added {name} ({})", role.as_str());
            if generated {
                println!("password: {}", password.expose_secret());
            }
        }
        UserCommand::Passwd { name, password_stdin } => {
            let (password, generated) = password_from(password_stdin)?;
            manage::set_password(store, &name, password.clone()).await?;
            audit(store, "user-password", &name).await?;
            println!("password of {name} changed");
            if generated {
                println!("password: {}", password.expose_secret());
            }
        }
        UserCommand::Role { name, role } => {
            manage::set_role(store, &name, role).await?;
            audit(store, "user-role", &format!("{name} → {}", role.as_str())).await?;
            println!("{name} is now {}", role.as_str());
        }
        UserCommand::Remove { name } => {
            manage::remove_user(store, &name).await?;
            audit(store, "user-remove", &name).await?;
            println!("removed {name}; their tokens are revoked");
        }
        UserCommand::List => {
            for user in store.users().await? {
                println!("{}\t{}\t{}", user.name, user.role.as_str(), user.created_at.to_rfc3339());
            }
        }
    }
    Ok(())
}

async fn token(store: &Store, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { name, scopes, owner } => {
            let scopes = parse_scopes(&scopes).map_err(anyhow::Error::msg)?;
            let created = manage::create_token(store, &owner, &name, &scopes, None).await?;
            audit(store, "token-create", &format!("{}… ({name})", created.prefix)).await?;
            println!("{}", created.token.expose_secret());
        }
        TokenCommand::List => {
            for token in store.tokens().await? {
                let scopes: Vec<_> = manage::scopes_of(&token).iter().map(|s| s.as_str()).collect();
                let used = token.last_used_at.map(|at| at.to_rfc3339()).unwrap_or_else(|| "never".into());
                let state = if token.revoked_at.is_some() { "revoked" } else { "live" };
                println!(
                    "{}\t{}…\t{}\t{}\t{}\tlast used {used}\t{state}",
                    token.id,
                    token.prefix,
                    token.name,
                    token.owner,
                    scopes.join(",")
                );
            }
        }
        TokenCommand::Revoke { id_or_prefix } => {
            let revoked = manage::revoke_token(store, &id_or_prefix).await?;
            audit(store, "token-revoke", &format!("{}… ({})", revoked.prefix, revoked.name)).await?;
            println!("revoked {}…", revoked.prefix);
        }
    }
    Ok(())
}

async fn source(store: &Store, command: SourceCommand) -> anyhow::Result<()> {
    match command {
        SourceCommand::Add { name, preset, type_header, type_field, type_prefix, id_header } => {
            let given = WebhookShape { type_header, type_field, type_prefix, id_header };
            let shape = manage::shape(preset.as_deref(), given)?;
            let secret = manage::add_source(store, &name, &shape, "shell").await?;
            audit(store, "source-add", &name).await?;
            println!("CloudEvents: /api/v1/sources/{name}/events");
            println!("webhooks:    /api/v1/webhooks/{name}");
            println!("secret: {}", secret.expose_secret());
        }
        SourceCommand::List => {
            for source in store.sources().await? {
                println!("{}\t/api/v1/sources/{}/events\t{}", source.name, source.name, source.created_by);
            }
        }
        SourceCommand::Remove { name } => {
            anyhow::ensure!(store.remove_source(&name).await?, "no event source `{name}`");
            audit(store, "source-remove", &name).await?;
            println!("removed {name}");
        }
    }
    Ok(())
}

/// `k8x validate <dir>`: prints every problem, the directories k8x does not run and a summary; fails if
/// there is a problem (a directory that cannot be read is one).
pub fn validate(dir: &Path) -> ExitCode {
    let scan = backend::catalog::scan(dir);
    print!("{}", scan.report());
    if scan.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The password from stdin (first line; typed without echo on a terminal), or a generated one.
fn password_from(stdin: bool) -> anyhow::Result<(SecretString, bool)> {
    if !stdin {
        return Ok((password::generate(), true));
    }
    let input = std::io::stdin();
    if input.is_terminal() {
        let typed = rpassword::prompt_password("password: ").context("reading the password")?;
        return Ok((typed.into(), false));
    }
    let mut line = String::new();
    input.lock().read_line(&mut line).context("reading the password from standard input")?;
    Ok((line.trim_end_matches(['\r', '\n']).to_owned().into(), false))
}

async fn audit(store: &Store, action: &'static str, target: &str) -> anyhow::Result<()> {
    let actor = std::env::var("USER").map(|user| format!("shell ({user})")).unwrap_or_else(|_| "shell".into());
    let record = AuditRecord { actor, action, target: target.to_owned(), address: None, detail: None };
    Ok(store.audit(record).await?)
}
