//! Themes: built-in, chosen, overridden by file, configured in portal.yaml, ejected.

mod common;

use std::fs;
use std::process::Command;

use common::{Portal, build};

#[test]
fn portal_overrides_one_template_one_css_file_and_sets_a_logo() {
    let portal = Portal::example();
    // No themes/ folder at all: the built-in default theme is used.
    fs::remove_dir_all(portal.path("themes")).expect("rm themes");
    portal.write(
        "templates/agencies.html",
        "{% extends \"base.html\" %}{% block content %}<h1>机关一览（本门户自定义）</h1>{% for a in agencies %}<p><a href=\"{{ root }}{{ a.url }}\">{{ a.name }}</a></p>{% endfor %}{% endblock content %}",
    );
    portal.write(
        "static/style.css",
        "body { color: #111; } /* portal's own stylesheet */\n",
    );
    portal.write(
        "static/emblem.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>\n",
    );
    portal.modify("portal.yaml", |t| {
        format!("{t}theme_settings:\n  logo: static/emblem.svg\n  logo_alt: 汾阳市人民政府\n")
    });
    let out = portal.out("site");
    build(&portal.root(), Some(&out)).assert_ok();

    let agencies = fs::read_to_string(out.join("agencies/index.html")).expect("agencies");
    assert!(
        agencies.contains("机关一览（本门户自定义）"),
        "the overriding template is used"
    );
    assert_eq!(
        fs::read_to_string(out.join("static/style.css")).expect("css"),
        "body { color: #111; } /* portal's own stylesheet */\n"
    );
    let home = fs::read_to_string(out.join("index.html")).expect("home");
    assert!(
        home.contains("static/emblem.svg") && home.contains("汾阳市人民政府"),
        "the logo setting is used"
    );
    // Everything else comes from the default theme.
    let report =
        fs::read_to_string(out.join("reports/2022/fenyang-gov-office/index.html")).expect("report");
    assert!(
        report.contains("数据检查") && report.contains("t-applications"),
        "default report template"
    );
    assert!(out.join("static/emblem.svg").is_file());
}

#[test]
fn every_shipped_theme_builds_the_example() {
    let list = Command::new(env!("CARGO_BIN_EXE_portalgen"))
        .args(["theme", "list"])
        .output()
        .expect("run");
    let names = String::from_utf8_lossy(&list.stdout).into_owned();
    let names: Vec<&str> = names.lines().collect();
    assert!(
        names.contains(&"default") && names.contains(&"compact"),
        "{names:?}"
    );
    for name in names {
        let portal = Portal::example();
        if name != "default" {
            portal.modify("portal.yaml", |t| {
                t.replace("theme: default", &format!("theme: {name}"))
            });
        }
        let out = portal.out("site");
        build(&portal.root(), Some(&out)).assert_ok();
        assert!(
            out.join("reports/2022/fenyang-gov-office/index.html")
                .is_file(),
            "{name}"
        );
    }
}

#[test]
fn a_broken_template_is_reported_with_file_line_and_column() {
    let portal = Portal::example();
    portal.write("templates/agency.html", "{% extends \"base.html\" %}\n{% block content %}\n<h1>{{ agency.name </h1>\n{% endblock content %}\n");
    let out = portal.out("site");
    let run = build(&portal.root(), Some(&out));
    assert!(!run.ok());
    assert!(
        run.stderr.contains("agency.html:3:20"), // where `</h1>` interrupts the open `{{ agency.name`
        "line of the error: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("templates/agency.html"),
        "the file it came from: {}",
        run.stderr
    );
    assert!(!out.exists(), "nothing written");
}

#[test]
fn unknown_variable_and_unknown_setting_fail_the_build() {
    let portal = Portal::example();
    portal.write("templates/agencies.html", "{% extends \"base.html\" %}{% block content %}{{ no_such_variable }}{% endblock content %}");
    let run = build(&portal.root(), Some(&portal.out("a")));
    assert!(
        !run.ok() && run.stderr.contains("agencies.html"),
        "{}",
        run.stderr
    );

    let portal = Portal::example();
    portal.modify("portal.yaml", |t| {
        format!("{t}theme_settings:\n  colour: red\n")
    });
    let run = build(&portal.root(), Some(&portal.out("b")));
    assert!(
        !run.ok() && run.stderr.contains("colour") && run.stderr.contains("accent"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_table_printed_through_a_filter_that_cuts_it_fails_the_build() {
    // A page's tables are put in where the template printed their `html` (a mark); a
    // filter that cuts the mark cannot get the table, and must not leave the mark.
    let portal = Portal::example();
    let template = fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("themes/default/templates/report.html"),
    )
    .expect("template");
    let cut = template.replace(
        "{{ tables[part.key].html | safe }}",
        "{{ tables[part.key].html | truncate(length=22) | safe }}",
    );
    assert_ne!(
        cut, template,
        "the default template prints its tables this way"
    );
    portal.write("templates/report.html", cut);
    let out = portal.out("site");
    let run = build(&portal.root(), Some(&out));
    assert!(
        !run.ok() && run.stderr.contains("templates/report.html") && run.stderr.contains("| safe"),
        "{}",
        run.stderr
    );
    assert!(!out.exists(), "nothing written");
    // Filters that leave it whole are fine (the mark has no letters to change case).
    portal.write(
        "templates/report.html",
        template.replace(
            "{{ tables[part.key].html | safe }}",
            "{{ tables[part.key].html | upper | safe }}",
        ),
    );
    build(&portal.root(), Some(&out)).assert_ok();
    let page =
        fs::read_to_string(out.join("reports/2022/fenyang-gov-office/index.html")).expect("report");
    assert!(page.contains("t-applications") && !page.contains('\u{E002}'));
}

#[test]
fn eject_copies_the_built_in_theme_and_never_overwrites() {
    let portal = Portal::example();
    fs::remove_dir_all(portal.path("themes")).expect("rm themes");
    let root = portal.root();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_portalgen"))
            .args(args)
            .output()
            .expect("run")
    };
    let out = run(&[
        "theme",
        "eject",
        "--root",
        root.to_str().expect("utf8"),
        "--name",
        "compact",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = portal.read("themes/compact/theme.yaml");
    assert!(!yaml.contains("extends:"), "the copy stands alone");
    assert!(
        portal
            .path("themes/compact/templates/report.html")
            .is_file(),
        "inherited files are copied too"
    );
    assert!(portal.path("themes/compact/static/compact.css").is_file());
    portal.modify("portal.yaml", |t| {
        t.replace("theme: default", "theme: compact")
    });
    build(&root, Some(&portal.out("site"))).assert_ok();
    let again = run(&[
        "theme",
        "eject",
        "--root",
        root.to_str().expect("utf8"),
        "--name",
        "compact",
    ]);
    assert!(!again.status.success());
}
