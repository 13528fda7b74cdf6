//! Hosted UI (classic) branding: SetUICustomization and GetUICustomization through the SDK,
//! and the logo fetched over HTTP from the `ImageUrl` they answer.
use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::primitives::Blob;
use cognate_sdk_tests::*;

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0x3f, 0x93, 0x01, 0x00, 0x04, 0x33, 0x01, 0x99, 0xdc, 0x1f, 0x84, 0x8d,
    0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The start of a JFIF file (SOI, APP0) and its end (EOI).
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
    0x00, 0xFF, 0xD9,
];

const POOL_CSS: &str = ".label-customizable { font-weight: 400; }\n.banner-customizable { background-color: #123456; }";
const CLIENT_CSS: &str = ".submitButton-customizable:hover { color: #fff; }";

/// A pool with a prefix domain and one client.
async fn pool_with_domain(c: &Cognate, domain: &str) -> TestPool {
    let pool = c.create_pool(domain).await;
    c.idp
        .create_user_pool_domain()
        .user_pool_id(&pool.pool_id)
        .domain(domain)
        .send()
        .await
        .expect("CreateUserPoolDomain");
    pool
}

async fn fetch(c: &Cognate, url: &str) -> reqwest::Response {
    c.http.get(url).send().await.expect("GET the image URL")
}

#[tokio::test]
async fn a_client_falls_back_to_the_pool_style_until_it_has_its_own_and_the_logo_is_served() {
    let c = Cognate::start().await;
    let pool = pool_with_domain(&c, "styled-login").await;
    let (other_client, _) = c.create_client(&pool.pool_id, "other", false).await;

    // Nothing set: the empty shape.
    let none = c
        .idp
        .get_ui_customization()
        .user_pool_id(&pool.pool_id)
        .client_id(&pool.client_id)
        .send()
        .await
        .expect("GetUICustomization");
    let none = none.ui_customization().expect("UICustomization");
    assert_eq!(none.css(), None);
    assert_eq!(none.image_url(), None);
    assert_eq!(none.creation_date(), None);

    // The pool's default (no ClientId), with a PNG logo.
    let set = c
        .idp
        .set_ui_customization()
        .user_pool_id(&pool.pool_id)
        .css(POOL_CSS)
        .image_file(Blob::new(PNG))
        .send()
        .await
        .expect("SetUICustomization ALL");
    let pool_style = set.ui_customization().expect("UICustomization").clone();
    assert_eq!(pool_style.user_pool_id(), Some(pool.pool_id.as_str()));
    assert_eq!(pool_style.client_id(), Some("ALL"));
    assert_eq!(pool_style.css(), Some(POOL_CSS));
    let version = pool_style.css_version().expect("CSSVersion");
    assert!(
        version.len() == 14 && version.bytes().all(|b| b.is_ascii_digit()),
        "{version}"
    );
    assert!(pool_style.creation_date().is_some() && pool_style.last_modified_date().is_some());
    let pool_logo = pool_style.image_url().expect("ImageUrl").to_owned();
    assert!(pool_logo.starts_with(&c.endpoint), "{pool_logo}");

    // The logo is served as it was given, as a PNG that no browser sniffs as anything else.
    let resp = fetch(&c, &pool_logo).await;
    assert_eq!(resp.status(), 200);
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("content-type").as_deref(), Some("image/png"));
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    assert!(header("cache-control").is_some_and(|v| v.contains("max-age")));
    assert!(header("content-security-policy").is_some_and(|v| v.contains("default-src 'none'")));
    assert_eq!(resp.bytes().await.expect("body").as_ref(), PNG);

    // Both clients see the pool's style, named ALL.
    for client in [&pool.client_id, &other_client] {
        let got = c
            .idp
            .get_ui_customization()
            .user_pool_id(&pool.pool_id)
            .client_id(client)
            .send()
            .await
            .expect("GetUICustomization");
        let got = got.ui_customization().expect("UICustomization");
        assert_eq!(got.client_id(), Some("ALL"));
        assert_eq!(got.css(), Some(POOL_CSS));
        assert_eq!(got.image_url(), Some(pool_logo.as_str()));
    }

    // A client's own style, with a JPEG logo: it no longer falls back.
    let set = c
        .idp
        .set_ui_customization()
        .user_pool_id(&pool.pool_id)
        .client_id(&pool.client_id)
        .css(CLIENT_CSS)
        .image_file(Blob::new(JPEG))
        .send()
        .await
        .expect("SetUICustomization client");
    let own = set.ui_customization().expect("UICustomization");
    assert_eq!(own.client_id(), Some(pool.client_id.as_str()));
    let client_logo = own.image_url().expect("ImageUrl").to_owned();
    assert_ne!(client_logo, pool_logo);
    let got = c
        .idp
        .get_ui_customization()
        .user_pool_id(&pool.pool_id)
        .client_id(&pool.client_id)
        .send()
        .await
        .expect("GetUICustomization");
    let got = got.ui_customization().expect("UICustomization");
    assert_eq!(got.client_id(), Some(pool.client_id.as_str()));
    assert_eq!(got.css(), Some(CLIENT_CSS));
    let resp = fetch(&c, &client_logo).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("image/jpeg")
    );
    assert_eq!(resp.bytes().await.expect("body").as_ref(), JPEG);
    // The other client still has the pool's; `ALL` asks for the pool's own.
    let all = c
        .idp
        .get_ui_customization()
        .user_pool_id(&pool.pool_id)
        .client_id("ALL")
        .send()
        .await
        .expect("GetUICustomization ALL");
    assert_eq!(all.ui_customization().and_then(|u| u.css()), Some(POOL_CSS));

    // Setting the pool's style again (CSS only: CSS and logo are set together) takes its logo
    // away and retires the old URL.
    c.idp
        .set_ui_customization()
        .user_pool_id(&pool.pool_id)
        .client_id("ALL")
        .css(POOL_CSS)
        .send()
        .await
        .expect("SetUICustomization ALL again");
    let again = c
        .idp
        .get_ui_customization()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .expect("GetUICustomization");
    let again = again.ui_customization().expect("UICustomization");
    assert_eq!(again.image_url(), None);
    assert_eq!(again.creation_date(), pool_style.creation_date(), "created once");
    assert_eq!(fetch(&c, &pool_logo).await.status(), 404);

    // A deleted client takes its style with it: its logo is gone.
    c.idp
        .delete_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_id(&pool.client_id)
        .send()
        .await
        .expect("DeleteUserPoolClient");
    assert_eq!(fetch(&c, &client_logo).await.status(), 404);
}

#[tokio::test]
async fn styles_need_a_domain_a_client_of_the_pool_and_allowed_css_and_images() {
    let c = Cognate::start().await;
    let bare = c.create_pool("no-domain").await;
    let no_domain = c
        .idp
        .set_ui_customization()
        .user_pool_id(&bare.pool_id)
        .css(POOL_CSS)
        .send()
        .await;
    expect_err_msg(
        no_domain,
        "InvalidParameterException",
        "There has to be an existing domain associated with this user pool",
    );
    let no_domain = c.idp.get_ui_customization().user_pool_id(&bare.pool_id).send().await;
    expect_err(no_domain, "InvalidParameterException");

    let missing = c
        .idp
        .set_ui_customization()
        .user_pool_id("us-east-1_nothere")
        .css(POOL_CSS)
        .send()
        .await;
    expect_err(missing, "ResourceNotFoundException");

    let pool = pool_with_domain(&c, "strict-login").await;
    let unknown = c
        .idp
        .set_ui_customization()
        .user_pool_id(&pool.pool_id)
        .client_id("nosuchclient123")
        .css(POOL_CSS)
        .send()
        .await;
    expect_err(unknown, "ResourceNotFoundException");
    // A client of another pool is not one of this pool's.
    let elsewhere = c
        .idp
        .get_ui_customization()
        .user_pool_id(&pool.pool_id)
        .client_id(&bare.client_id)
        .send()
        .await;
    expect_err(elsewhere, "ResourceNotFoundException");

    for css in [
        "body { color: red; }",
        ".label-customizable:hover { color: red; }",
        "@media (max-width: 600px) { .label-customizable { color: red; } }",
        ".label-customizable { color: red; } </style><script>alert(1)</script>",
    ] {
        let refused = c
            .idp
            .set_ui_customization()
            .user_pool_id(&pool.pool_id)
            .css(css)
            .send()
            .await;
        let message = expect_err(refused, "InvalidParameterException");
        assert!(message.starts_with("Invalid CSS"), "{css}: {message}");
    }

    let svg = c
        .idp
        .set_ui_customization()
        .user_pool_id(&pool.pool_id)
        .image_file(Blob::new(
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
        ))
        .send()
        .await;
    expect_err(svg, "InvalidParameterException");
    let too_big = c
        .idp
        .set_ui_customization()
        .user_pool_id(&pool.pool_id)
        .image_file(Blob::new([PNG, &vec![0u8; 131_072]].concat()))
        .send()
        .await;
    expect_err(too_big, "InvalidParameterException");

    // Nothing was stored by the refusals.
    let got = c
        .idp
        .get_ui_customization()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .expect("GetUICustomization");
    let got = got.ui_customization().expect("UICustomization");
    assert_eq!(got.client_id(), Some("ALL"));
    assert_eq!(got.css(), None);
}
