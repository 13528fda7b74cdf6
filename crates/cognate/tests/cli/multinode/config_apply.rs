//! Nodes starting at the same moment with the same serverless.yml create each resource once:
//! ten rounds, each on a database of its own, of three nodes spawned together. Every node must
//! see one pool of the name (and one client, group, user, domain and resource server), and
//! the nodes' logs together must say `user pool created` (and the others) exactly once.
use super::cluster::{Node, TestDatabase, spawn};

const ROUNDS: usize = 10;
const NODES: usize = 3;

const CONFIG: &str = r#"service: multinode
provider:
  name: aws
  runtime: nodejs20.x
resources:
  Resources:
    SharedPool:
      Type: AWS::Cognito::UserPool
      Properties:
        UserPoolName: shared-pool
        AutoVerifiedAttributes: [email]
    WebClient:
      Type: AWS::Cognito::UserPoolClient
      Properties:
        UserPoolId: !Ref SharedPool
        ClientName: web
        ExplicitAuthFlows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
    Admins:
      Type: AWS::Cognito::UserPoolGroup
      Properties:
        UserPoolId: !Ref SharedPool
        GroupName: admins
    Seed:
      Type: AWS::Cognito::UserPoolUser
      Properties:
        UserPoolId: !Ref SharedPool
        Username: seed
        MessageAction: SUPPRESS
    Domain:
      Type: AWS::Cognito::UserPoolDomain
      Properties:
        UserPoolId: !Ref SharedPool
        Domain: multinode-shared
    Api:
      Type: AWS::Cognito::UserPoolResourceServer
      Properties:
        UserPoolId: !Ref SharedPool
        Identifier: https://api.example.test
        Name: api
        Scopes:
          - ScopeName: read
            ScopeDescription: Read access
"#;

/// What each resource's creation logs: exactly one of each over all the nodes of a round.
const CREATED: &[&str] = &[
    "user pool created",
    "app client created",
    "group created",
    "user created",
    "user pool domain created",
    "resource server created",
];

/// What every node sees of the round's resources.
async fn check_resources(node: &Node, round: usize) {
    let pools = node
        .idp
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("ListUserPools");
    let named: Vec<_> = pools
        .user_pools()
        .iter()
        .filter(|p| p.name() == Some("shared-pool"))
        .filter_map(|p| p.id())
        .collect();
    assert_eq!(named.len(), 1, "round {round}: pools named shared-pool: {named:?}");
    assert_eq!(pools.user_pools().len(), 1, "round {round}");
    let pool_id = named[0];
    let clients = node
        .idp
        .list_user_pool_clients()
        .user_pool_id(pool_id)
        .send()
        .await
        .expect("ListUserPoolClients");
    assert_eq!(clients.user_pool_clients().len(), 1, "round {round}: clients");
    let groups = node
        .idp
        .list_groups()
        .user_pool_id(pool_id)
        .send()
        .await
        .expect("ListGroups");
    assert_eq!(groups.groups().len(), 1, "round {round}: groups");
    let users = node
        .idp
        .list_users()
        .user_pool_id(pool_id)
        .send()
        .await
        .expect("ListUsers");
    assert_eq!(users.users().len(), 1, "round {round}: users");
    let servers = node
        .idp
        .list_resource_servers()
        .user_pool_id(pool_id)
        .max_results(50)
        .send()
        .await
        .expect("ListResourceServers");
    assert_eq!(servers.resource_servers().len(), 1, "round {round}: resource servers");
    let domain = node
        .idp
        .describe_user_pool_domain()
        .domain("multinode-shared")
        .send()
        .await
        .expect("DescribeUserPoolDomain");
    assert_eq!(
        domain.domain_description().and_then(|d| d.user_pool_id()),
        Some(pool_id),
        "round {round}: domain"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_apply_a_config_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("serverless.yml"), CONFIG).unwrap();
    let config = dir.path().to_str().unwrap().to_owned();
    for round in 0..ROUNDS {
        let Some(db) = TestDatabase::create("config_apply").await else {
            return;
        };
        // Spawned back to back, before any is waited for: they connect, migrate and apply at
        // the same moment.
        let starting: Vec<_> = (0..NODES)
            .map(|_| spawn(&["--database", &db.url, "--config", &config]))
            .collect();
        let mut nodes = Vec::new();
        for s in starting {
            nodes.push(s.ready().await);
        }
        for node in &nodes {
            check_resources(node, round).await;
        }
        let logs: Vec<String> = nodes.iter().map(Node::log).collect();
        for line in CREATED {
            let count: usize = logs
                .iter()
                .map(|l| l.lines().filter(|x| x.contains(&format!(" {line}"))).count())
                .sum();
            assert_eq!(
                count,
                1,
                "round {round}: {line:?} logged {count} times:\n{}",
                logs.join("\n---\n")
            );
        }
        drop(nodes);
        drop(db);
    }
}
