//! User import jobs: GetCSVHeader, CreateUserImportJob, DescribeUserImportJob,
//! ListUserImportJobs, StartUserImportJob and StopUserImportJob. A job's `PreSignedUrl` is an
//! address on this server (`/_cognate/user-import/POOL/JOB?token=…`, standing in for Amazon
//! S3) that takes the CSV file by `PUT`; starting the job creates its users in RESET_REQUIRED,
//! as Cognito does, in the background when the server gave a runner (else before answering).
use crate::attributes::validate_attributes;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{User, UserPool, UserStatus};
use crate::ops::Input;
use crate::ops::mfa::Factor;
use crate::ops::types::Timestamp;
use crate::request::{Request, encode_page_token};
use crate::service::{ALNUM, Cognito};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

/// Store name prefixes, in the pool's scope: the job, and its uploaded file.
const JOB_PREFIX: &str = "import-job/";
const FILE_PREFIX: &str = "import-file/";
/// Cognito's limit on the import file.
pub const MAX_IMPORT_FILE_BYTES: usize = 100 * 1024 * 1024;
/// Runs a started job somewhere else (the server spawns a task): pool id, job id.
pub type JobRunner = Arc<dyn Fn(String, String) + Send + Sync>;

// ---- inputs ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GetCsvHeaderInput {
    pub user_pool_id: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateUserImportJobInput {
    pub user_pool_id: String,
    pub job_name: String,
    pub cloud_watch_logs_role_arn: String,
}

/// DescribeUserImportJob, StartUserImportJob, StopUserImportJob.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserImportJobRef {
    pub user_pool_id: String,
    pub job_id: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListUserImportJobsInput {
    pub user_pool_id: String,
    pub max_results: usize,
    pub pagination_token: Option<String>,
}

impl Input for GetCsvHeaderInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
        })
    }
}

impl Input for CreateUserImportJobInput {
    fn decode(req: &Request) -> Result<Self> {
        let job_name = req.str("JobName")?;
        let name_ok = |c: char| c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c);
        if job_name.is_empty() || job_name.chars().count() > 128 || !job_name.chars().all(name_ok) {
            return Err(Error::constraint(
                "jobName",
                &job_name,
                "Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+",
            ));
        }
        if req.raw("PasswordHashingAlgorithm").is_some_and(|v| !v.is_null()) {
            // Importing password hashes is not implemented: refuse rather than import users
            // whose hashes would be dropped.
            return Err(Error::invalid_parameter(
                "PasswordHashingAlgorithm is not supported by Cognate: imported users reset their passwords.",
            ));
        }
        let cloud_watch_logs_role_arn = req.str("CloudWatchLogsRoleArn")?;
        if !cloud_watch_logs_role_arn.starts_with("arn:") || cloud_watch_logs_role_arn.len() < 20 {
            return Err(Error::constraint(
                "cloudWatchLogsRoleArn",
                &cloud_watch_logs_role_arn,
                "Member must satisfy regular expression pattern: arn:[\\w+=/,.@-]+:[\\w+=/,.@-]+:([\\w+=/,.@-]*)?:[0-9]+:[\\w+=/,.@-]+(:[\\w+=/,.@-]+)?(:[\\w+=/,.@-]+)?",
            ));
        }
        Ok(Self {
            user_pool_id: req.pool_id()?,
            job_name,
            cloud_watch_logs_role_arn,
        })
    }
}

impl Input for UserImportJobRef {
    fn decode(req: &Request) -> Result<Self> {
        let job_id = req.str("JobId")?;
        let valid = job_id
            .strip_prefix("import-")
            .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !valid || job_id.len() > 55 {
            return Err(Error::constraint(
                "jobId",
                &job_id,
                "Member must satisfy regular expression pattern: import-[0-9a-zA-Z-]+",
            ));
        }
        Ok(Self {
            user_pool_id: req.pool_id()?,
            job_id,
        })
    }
}

impl Input for ListUserImportJobsInput {
    fn decode(req: &Request) -> Result<Self> {
        if req.opt_i64("MaxResults")?.is_none() {
            return Err(Error::missing("maxResults"));
        }
        let max_results = req.limit("MaxResults", 60, 60)?;
        if max_results == 0 {
            return Err(Error::constraint(
                "maxResults",
                "0",
                "Member must have value greater than or equal to 1",
            ));
        }
        Ok(Self {
            user_pool_id: req.pool_id()?,
            max_results,
            pagination_token: req.page_token("PaginationToken")?,
        })
    }
}

// ---- outputs -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetCsvHeaderOutput {
    pub user_pool_id: String,
    #[serde(rename = "CSVHeader")]
    pub csv_header: Vec<String>,
}

/// UserImportJobType.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserImportJob {
    pub job_name: String,
    pub job_id: String,
    pub user_pool_id: String,
    pub pre_signed_url: String,
    pub creation_date: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_date: Option<Timestamp>,
    pub status: String,
    pub cloud_watch_logs_role_arn: String,
    pub imported_users: i64,
    pub skipped_users: i64,
    pub failed_users: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_message: Option<String>,
}

/// A job as stored: with the token its upload address carries, which no answer shows.
#[derive(Serialize, Deserialize)]
struct StoredJob {
    job: UserImportJob,
    upload_token: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserImportJobOutput {
    pub user_import_job: UserImportJob,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUserImportJobsOutput {
    pub user_import_jobs: Vec<UserImportJob>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination_token: Option<String>,
}

fn job_not_found(job_id: &str) -> Error {
    Error::new(
        ErrorKind::ResourceNotFoundException,
        format!("Import job {job_id} does not exist."),
    )
}

fn precondition(message: String) -> Error {
    Error::new(ErrorKind::PreconditionNotMetException, message)
}

// ---- operations --------------------------------------------------------------------------

impl Cognito {
    pub async fn get_csv_header(&self, input: GetCsvHeaderInput) -> Result<GetCsvHeaderOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        Ok(GetCsvHeaderOutput {
            user_pool_id: pool.id.clone(),
            csv_header: csv_header(&pool),
        })
    }

    pub async fn create_user_import_job(&self, input: CreateUserImportJobInput) -> Result<UserImportJobOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let job_id = format!("import-{}", self.random_string(ALNUM, 10));
        let upload_token = self.random_string(ALNUM, 32);
        let job = UserImportJob {
            job_name: input.job_name,
            pre_signed_url: format!(
                "{}/_cognate/user-import/{}/{job_id}?token={upload_token}",
                self.settings.public_base, pool.id
            ),
            job_id,
            user_pool_id: pool.id.clone(),
            creation_date: Timestamp(self.now_ms()),
            start_date: None,
            completion_date: None,
            status: "Created".into(),
            cloud_watch_logs_role_arn: input.cloud_watch_logs_role_arn,
            imported_users: 0,
            skipped_users: 0,
            failed_users: 0,
            completion_message: None,
        };
        self.put_import_job(&job, &upload_token).await?;
        Ok(UserImportJobOutput { user_import_job: job })
    }

    pub async fn describe_user_import_job(&self, input: UserImportJobRef) -> Result<UserImportJobOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        Ok(UserImportJobOutput {
            user_import_job: self.import_job(&pool.id, &input.job_id).await?,
        })
    }

    pub async fn list_user_import_jobs(&self, input: ListUserImportJobsInput) -> Result<ListUserImportJobsOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let after = input.pagination_token.unwrap_or_default();
        let mut jobs: Vec<UserImportJob> = self
            .store
            .list_secrets(&pool.id)
            .await?
            .into_iter()
            .filter(|(name, _)| name.starts_with(JOB_PREFIX))
            .filter_map(|(_, bytes)| serde_json::from_slice::<StoredJob>(&bytes).ok())
            .map(|s| s.job)
            .filter(|j| j.job_id > after)
            .collect();
        jobs.sort_by(|a, b| a.job_id.cmp(&b.job_id));
        let pagination_token = (jobs.len() > input.max_results).then(|| {
            jobs.truncate(input.max_results);
            jobs.last().map(|j| encode_page_token(&j.job_id)).unwrap_or_default()
        });
        Ok(ListUserImportJobsOutput {
            user_import_jobs: jobs,
            pagination_token,
        })
    }

    pub async fn start_user_import_job(&self, input: UserImportJobRef) -> Result<UserImportJobOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let mut job = self.import_job(&pool.id, &input.job_id).await?;
        if job.status != "Created" {
            return Err(precondition(format!(
                "Import job {} cannot be started: its status is {}.",
                job.job_id, job.status
            )));
        }
        job.status = "Pending".into();
        job.start_date = Some(Timestamp(self.now_ms()));
        self.save_import_job(&job).await?;
        match self.job_runner.get() {
            Some(run) => run(pool.id.clone(), job.job_id.clone()),
            None => self.run_user_import_job(&pool.id, &job.job_id).await?,
        }
        Ok(UserImportJobOutput {
            user_import_job: self.import_job(&pool.id, &job.job_id).await?,
        })
    }

    pub async fn stop_user_import_job(&self, input: UserImportJobRef) -> Result<UserImportJobOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let mut job = self.import_job(&pool.id, &input.job_id).await?;
        if !matches!(job.status.as_str(), "Pending" | "InProgress") {
            return Err(precondition(format!(
                "Import job {} cannot be stopped: its status is {}.",
                job.job_id, job.status
            )));
        }
        job.status = "Stopping".into();
        self.save_import_job(&job).await?;
        Ok(UserImportJobOutput { user_import_job: job })
    }

    /// Sets how started jobs run (once; the server spawns a task for each).
    pub fn set_job_runner(&self, runner: JobRunner) {
        let _ = self.job_runner.set(runner);
    }

    /// Takes the file a job's `PreSignedUrl` was sent (`PUT`): refused unless the token is the
    /// job's and the job has not started.
    pub async fn upload_user_import_file(&self, pool_id: &str, job_id: &str, token: &str, file: &[u8]) -> Result<()> {
        let stored = self.stored_import_job(pool_id, job_id).await?;
        let job = stored.job;
        if !cognate_crypto::ct_eq(token.as_bytes(), stored.upload_token.as_bytes()) {
            return Err(Error::not_authorized("The request signature does not match."));
        }
        if job.status != "Created" {
            return Err(precondition(format!("Import job {job_id} has already started.")));
        }
        if file.len() > MAX_IMPORT_FILE_BYTES {
            return Err(Error::invalid_parameter("The import file is larger than 100 MB."));
        }
        self.store
            .put_secret(pool_id, &format!("{FILE_PREFIX}{job_id}"), file)
            .await?;
        Ok(())
    }

    /// Imports a started job's users, row by row, until done or stopped.
    pub async fn run_user_import_job(&self, pool_id: &str, job_id: &str) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let mut job = self.import_job(pool_id, job_id).await?;
        job.status = "InProgress".into();
        self.save_import_job(&job).await?;
        let file = self
            .store
            .get_secret(pool_id, &format!("{FILE_PREFIX}{job_id}"))
            .await?;
        let rows = match file.as_deref().map(|f| String::from_utf8_lossy(f).into_owned()) {
            None => Err("The user import file was not uploaded.".to_owned()),
            Some(text) => {
                crate::csv::records(&text).map_err(|n| format!("Record {n} of the file has an unclosed quote."))
            }
        };
        let rows = match rows.and_then(|r| checked_header(&pool, r)) {
            Ok(rows) => rows,
            Err(message) => return self.finish_import_job(job, "Failed", message).await,
        };
        let header = rows[0].clone();
        for (i, row) in rows.iter().enumerate().skip(1) {
            // A stop asked for through another call shows in the stored job.
            if i % 100 == 0 && self.import_job(pool_id, job_id).await?.status == "Stopping" {
                job.skipped_users += (rows.len() - i) as i64;
                return self
                    .finish_import_job(job, "Stopped", "The import job was stopped.".into())
                    .await;
            }
            match self.import_row(&pool, &header, row).await {
                Ok(()) => job.imported_users += 1,
                Err(e) => {
                    tracing::info!(job = %job_id, row = i + 1, error = %e.message, "user import row failed");
                    job.failed_users += 1;
                }
            }
            if i % 1000 == 0 {
                self.save_import_job(&job).await?;
            }
        }
        if self.import_job(pool_id, job_id).await?.status == "Stopping" {
            return self
                .finish_import_job(job, "Stopped", "The import job was stopped.".into())
                .await;
        }
        let (status, message) = if job.failed_users == 0 {
            ("Succeeded", "Import Job Completed Successfully.")
        } else {
            (
                "Failed",
                "Too many users have failed or been skipped during the import.",
            )
        };
        self.finish_import_job(job, status, message.into()).await
    }

    async fn finish_import_job(&self, mut job: UserImportJob, status: &str, message: String) -> Result<()> {
        job.status = status.into();
        job.completion_date = Some(Timestamp(self.now_ms()));
        job.completion_message = Some(message);
        self.save_import_job(&job).await?;
        self.store
            .delete_secret(&job.user_pool_id, &format!("{FILE_PREFIX}{}", job.job_id))
            .await?;
        Ok(())
    }

    /// One row: a user in RESET_REQUIRED with the row's attributes.
    async fn import_row(&self, pool: &UserPool, header: &[String], row: &[String]) -> Result<()> {
        if row.len() != header.len() {
            return Err(Error::invalid_parameter(format!(
                "The row has {} fields where the header has {}.",
                row.len(),
                header.len()
            )));
        }
        let mut username = String::new();
        let mut mfa = false;
        let mut given = Vec::new();
        for (column, value) in header.iter().zip(row) {
            match column.as_str() {
                "cognito:username" => username = value.clone(),
                "cognito:mfa_enabled" => mfa = value.eq_ignore_ascii_case("true"),
                _ if value.is_empty() => {}
                _ => given.push((column.clone(), value.clone())),
            }
        }
        if username.is_empty() {
            return Err(Error::invalid_parameter("cognito:username is required."));
        }
        let attrs = validate_attributes(pool, &given, true)?;
        let verified =
            |a: &str| attrs.get(&format!("{a}_verified")).is_some_and(|v| v == "true") && attrs.contains_key(a);
        if !verified("email") && !verified("phone_number") {
            return Err(Error::invalid_parameter(
                "The user has no verified email or phone number to reset a password with.",
            ));
        }
        crate::attributes::check_required(pool, &attrs)?;
        let mut attrs = attrs;
        let username = self.username_for_new_user(pool, &username, &mut attrs)?;
        let _unique = self.check_user_unique(pool, &username, &attrs).await?;
        let mut user: User = self.new_user(pool, username, attrs, UserStatus::ResetRequired);
        if mfa {
            user.extra.insert(Factor::Sms.enabled_key().into(), json!(true));
        }
        self.insert_new_user(pool, &user, "User account already exists").await
    }

    async fn stored_import_job(&self, pool_id: &str, job_id: &str) -> Result<StoredJob> {
        let stored = self
            .store
            .get_secret(pool_id, &format!("{JOB_PREFIX}{job_id}"))
            .await?
            .ok_or_else(|| job_not_found(job_id))?;
        serde_json::from_slice(&stored).map_err(Error::internal)
    }

    async fn import_job(&self, pool_id: &str, job_id: &str) -> Result<UserImportJob> {
        Ok(self.stored_import_job(pool_id, job_id).await?.job)
    }

    async fn put_import_job(&self, job: &UserImportJob, upload_token: &str) -> Result<()> {
        let stored = StoredJob {
            job: job.clone(),
            upload_token: upload_token.to_owned(),
        };
        let bytes = serde_json::to_vec(&stored).map_err(Error::internal)?;
        self.store
            .put_secret(&job.user_pool_id, &format!("{JOB_PREFIX}{}", job.job_id), &bytes)
            .await?;
        Ok(())
    }

    /// Saves a job's new state, keeping its upload token.
    async fn save_import_job(&self, job: &UserImportJob) -> Result<()> {
        let token = self
            .stored_import_job(&job.user_pool_id, &job.job_id)
            .await?
            .upload_token;
        self.put_import_job(job, &token).await
    }
}

/// GetCSVHeader: the standard attributes, the pool's custom attributes, then
/// `cognito:mfa_enabled` and `cognito:username`.
fn csv_header(pool: &UserPool) -> Vec<String> {
    // The standard attributes in the schema's order (which is GetCSVHeader's), but `sub` and
    // `identities`, which Cognito sets itself.
    let mut out: Vec<String> = crate::ops::pools::standard_schema()
        .iter()
        .filter_map(|a| a.get("Name").and_then(serde_json::Value::as_str))
        .filter(|n| !matches!(*n, "sub" | "identities"))
        .map(str::to_owned)
        .collect();
    out.extend(
        pool.schema()
            .iter()
            .filter_map(|a| a.get("Name").and_then(serde_json::Value::as_str))
            .filter(|n| n.contains("custom:"))
            .map(str::to_owned),
    );
    out.push("cognito:mfa_enabled".into());
    out.push("cognito:username".into());
    out
}

/// The file's records, when its header has every column of GetCSVHeader (in any order).
fn checked_header(pool: &UserPool, rows: Vec<Vec<String>>) -> std::result::Result<Vec<Vec<String>>, String> {
    let mut rows = rows;
    let Some(header) = rows.first_mut() else {
        return Err("The user import file is empty.".into());
    };
    for h in header.iter_mut() {
        *h = h.trim().to_owned();
    }
    let missing: Vec<String> = csv_header(pool)
        .into_iter()
        .filter(|c| !header.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        return Err(format!("The header of the file lacks columns: {}.", missing.join(", ")));
    }
    Ok(rows)
}
