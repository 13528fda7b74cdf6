//! Terraform's AWS provider against Cognate: apply, plan with no changes, update, plan again,
//! destroy. The provider (AWS SDK for Go) leaves false booleans out of requests and compares
//! what Describe returns with the configuration, so any default Cognate invents shows up as
//! drift. Runs where Terraform and a local mirror of the hashicorp/aws provider are installed
//! (`terraform` on PATH; the mirror in `COGNATE_TF_PLUGINS` or `/opt/tf-plugins`), and says so
//! when it cannot.
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::{BIN, call, read_ready};

const MAIN_TF: &str = r#"
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "PROVIDER_VERSION" }
  }
}
variable "endpoint" { type = string }
variable "min_len" {
  type    = number
  default = 8
}
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "local"
  secret_key                  = "local"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  skip_region_validation      = true
  endpoints {
    cognitoidp = var.endpoint
  }
}
resource "aws_cognito_user_pool" "pool" {
  name = "tfpool"
  password_policy {
    minimum_length    = var.min_len
    require_lowercase = true
    require_numbers   = true
    require_uppercase = true
    require_symbols   = false
  }
  admin_create_user_config {
    allow_admin_create_user_only = false
  }
  auto_verified_attributes = ["email"]
  username_configuration {
    case_sensitive = false
  }
  device_configuration {
    challenge_required_on_new_device      = true
    device_only_remembered_on_user_prompt = false
  }
  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }
  verification_message_template {
    default_email_option = "CONFIRM_WITH_CODE"
    email_subject        = "Your code"
    email_message        = "Code {####}"
  }
  schema {
    name                = "tenant"
    attribute_data_type = "String"
    mutable             = true
    string_attribute_constraints {
      min_length = 1
      max_length = 64
    }
  }
}
resource "aws_cognito_user_pool_client" "plain" {
  name                = "plain"
  user_pool_id        = aws_cognito_user_pool.pool.id
  explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
}
resource "aws_cognito_user_pool_client" "full" {
  name                   = "full"
  user_pool_id           = aws_cognito_user_pool.pool.id
  generate_secret        = true
  explicit_auth_flows    = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  access_token_validity  = 30
  id_token_validity      = 30
  refresh_token_validity = 7
  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = false
  read_attributes               = ["email"]
}
output "pool_id" { value = aws_cognito_user_pool.pool.id }
"#;

/// The terraform binary and the mirror folder and version of the hashicorp/aws provider.
fn terraform_setup() -> Option<(PathBuf, PathBuf, String)> {
    let terraform = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("terraform"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.is_file())?;
    let mirror = std::env::var_os("COGNATE_TF_PLUGINS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/tf-plugins"));
    let versions = mirror.join("registry.terraform.io/hashicorp/aws");
    let version = std::fs::read_dir(&versions)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .max()?;
    Some((terraform, mirror, version))
}

fn terraform(bin: &Path, dir: &Path, args: &[&str], endpoint: &str, min_len: u32) -> Output {
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", dir.join("tf.rc"))
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .env("HOME", dir)
        .env("TF_VAR_endpoint", endpoint)
        .env("TF_VAR_min_len", min_len.to_string())
        .stdin(Stdio::null())
        .output()
        .expect("terraform runs")
}

fn expect_code(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn terraform_applies_plans_no_changes_and_destroys() {
    let Some((bin, mirror, version)) = terraform_setup() else {
        eprintln!("terraform or its hashicorp/aws provider mirror is not installed: not run");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        MAIN_TF.replace("PROVIDER_VERSION", &version),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("tf.rc"),
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n}}\n",
            mirror.display()
        ),
    )
    .unwrap();
    let mut server = Command::new(BIN)
        .args(["serve", "--memory", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = read_ready(&mut server);
    let endpoint = format!("http://{addr}");
    let tf = |args: &[&str], min_len| terraform(&bin, dir.path(), args, &endpoint, min_len);
    let quiet = ["-input=false", "-no-color"];

    expect_code(&tf(&["init", quiet[0], quiet[1]], 8), 0, "terraform init");
    expect_code(
        &tf(&["apply", "-auto-approve", quiet[0], quiet[1]], 8),
        0,
        "terraform apply",
    );
    expect_code(
        &tf(&["plan", "-detailed-exitcode", quiet[0], quiet[1]], 8),
        0,
        "terraform plan after apply must show no changes",
    );

    // require_symbols = false holds: a password without symbols is accepted.
    let (_, pools) = call(&addr, "ListUserPools", r#"{"MaxResults": 10}"#);
    let pool_id = pools["UserPools"][0]["Id"].as_str().unwrap().to_owned();
    let (status, out) = call(
        &addr,
        "AdminCreateUser",
        &format!(
            r#"{{"UserPoolId": "{pool_id}", "Username": "tf-user", "TemporaryPassword": "NoSymbols1x", "MessageAction": "SUPPRESS"}}"#
        ),
    );
    assert_eq!(status, 200, "{out}");

    expect_code(
        &tf(&["apply", "-auto-approve", quiet[0], quiet[1]], 10),
        0,
        "terraform apply of a change",
    );
    expect_code(
        &tf(&["plan", "-detailed-exitcode", quiet[0], quiet[1]], 10),
        0,
        "terraform plan after an update must show no changes",
    );
    expect_code(
        &tf(&["destroy", "-auto-approve", quiet[0], quiet[1]], 10),
        0,
        "terraform destroy",
    );
    let (_, pools) = call(&addr, "ListUserPools", r#"{"MaxResults": 10}"#);
    assert_eq!(pools["UserPools"], serde_json::json!([]), "destroy removed the pool");
    server.kill().unwrap();
    server.wait().unwrap();
}
