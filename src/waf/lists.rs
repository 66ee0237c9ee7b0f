//! The lists the detectors ship: security tools' User-Agent tokens ([`SCANNER_USER_AGENTS`]),
//! paths of exploit campaigns ([`CAMPAIGN_PROBE_PATHS`]) and sensitive file names
//! ([`SENSITIVE_FILES`], [`config_variants`], [`SQL_DUMP_SUFFIXES`]).
//!
//! Tool names and file paths are facts; the choice, grouping and scopes are this crate's. Each
//! group says why it is there. Entries are matched ASCII case-insensitively as substrings
//! (user agents anywhere in the header; file names on the request path, and where the group's
//! [`Scope`] allows it, in values that look like paths: see `lfi` and `scanner`).

/// A group of entries and the reason they are listed.
pub(crate) struct Group {
    /// the reason, for readers of the source (the tests check every group has one)
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) why: &'static str,
    pub(crate) entries: &'static [&'static str],
}

/// Where a sensitive file name is an attack signal.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Scope {
    /// A secret, credential, history or OS file: reading it is the attack, so it counts in any
    /// value that looks like a path (`lfi-sensitive-file`) as well as on the request path.
    Anywhere,
    /// Harmless as a parameter value (a code browser shows `.gitignore`, a log viewer names
    /// `debug.log`) but a probe when an application is asked for it (`lfi-restricted-path`).
    Path,
    /// Project and framework files an application may legitimately serve: a scanner probe only
    /// when the answer is a 404 (`scanner-probe-restricted-file`).
    Probe,
}

/// A group of sensitive file names with the scope they count in.
pub(crate) struct FileGroup {
    pub(crate) scope: Scope,
    pub(crate) group: Group,
}

const fn files(scope: Scope, why: &'static str, entries: &'static [&'static str]) -> FileGroup {
    FileGroup {
        scope,
        group: Group { why, entries },
    }
}

/// User-Agent tokens of security tools. Browsers, search-engine crawlers and generic HTTP
/// libraries (`curl`, `Wget`, `python-requests`, `Go-http-client`, `libwww-perl`) are not
/// here: legitimate integrations send them.
pub(crate) const SCANNER_USER_AGENTS: &[Group] = &[
    Group {
        why: "SQL injection tools",
        entries: &["sqlmap", "havij", "sqlninja", "ghauri", "jsql", "bbqsql"],
    },
    Group {
        why: "cross-site scripting, command, template and file inclusion tools",
        entries: &[
            "xsstrike",
            "xsser",
            "dalfox",
            "commix",
            "tplmap",
            "sstimap",
            "tinja",
            "fimap",
            "kadimus",
            "lfisuite",
            "lfimap",
            "dotdotpwn",
            "panoptic",
        ],
    },
    Group {
        why: "content discovery and fuzzing (paths, backups, IIS short names)",
        entries: &[
            "dirbuster",
            "gobuster",
            "feroxbuster",
            "dirsearch",
            "fuzz faster",
            "wfuzz",
            "jbrofuzz",
            "bfac",
            "shortscan",
        ],
    },
    Group {
        why: "CMS scanners (WordPress, Joomla, Drupal and others)",
        entries: &[
            "wpscan",
            "wprecon",
            "wpprobe",
            "joomscan",
            "droopescan",
            "cmsmap",
        ],
    },
    Group {
        why: "web vulnerability scanners, open source",
        entries: &[
            "nikto",
            "libwhisker",
            "arachni",
            "w3af.org",
            "skipfish",
            "wapiti",
            "vega",
            "ironwasp",
            "webshag",
            "nuclei",
            "jaeles",
            "nettacker",
            "whatweb",
            "whatwaf",
            "tsunamisecurityscanner",
            "openvas",
            "paros/",
            "webbandit",
        ],
    },
    Group {
        why: "web vulnerability scanners and monitors, commercial",
        entries: &[
            "acunetix",
            "netsparker",
            "appscan",
            "appspider",
            "nessus",
            "qualysguard",
            "n-stalker",
            "nsauditor",
            "detectify",
            "hexometer",
            "sitelockspider",
            "bewica-security-scan",
            "securityagent",
            "sysscan",
            "webvulncrawl",
            "yeswehack-hunter",
        ],
    },
    Group {
        why: "port and internet-wide scanners",
        entries: &[
            "nmap",
            "masscan",
            "zmap",
            "zgrab",
            "censysinspect",
            "expanse, a palo alto networks",
            "netlab360",
            "l9explore",
            "l9tcpid",
        ],
    },
    Group {
        why: "bots that probe for phpMyAdmin, webshells and admin pages",
        entries: &["zmeu", "morfeus", "jorgee", "muieblackcat", "betabot"],
    },
    Group {
        why: "password brute-forcers",
        entries: &["(hydra)"],
    },
    Group {
        why: "GraphQL fingerprinting and audit tools",
        entries: &["graphw00f", "graphql-cop"],
    },
    Group {
        why: "secret scanners run against a live site",
        entries: &["noseyparker", "trufflehog"],
    },
    Group {
        why: "out-of-band interaction hosts that scanners put in the header (Burp Collaborator, \
              interactsh's public servers, DNS-log and request-catcher services, blind-XSS \
              callbacks): a request naming one is a probe waiting for the server to call back",
        entries: &[
            "burpcollaborator",
            "interactsh",
            "interact.sh",
            ".oastify.com",
            ".oast.pro",
            ".oast.live",
            ".oast.site",
            ".oast.online",
            ".oast.fun",
            ".oast.me",
            ".dnslog.cn",
            ".ceye.io",
            ".requestrepo.com",
            ".canarytokens.com",
            ".bxss.me",
            ".xss.ht",
            "pingb.in",
        ],
    },
    Group {
        why: "commercial dynamic scanners and attack-surface services that name themselves",
        entries: &[
            "invicti",
            "webinspect",
            "nexpose",
            "insightappsec",
            "metasploit",
            "veracode",
            "probely",
            "hawkscan",
            "pentest-tools.com",
            "qualys",
            "tenable.io",
            "crashtest-security",
            "rapid7",
        ],
    },
    Group {
        why: "misspelt browser names only bots send",
        entries: &["mozlila", "mozilla/5.g"],
    },
];

/// Paths that exploit campaigns request on every host they sweep, by target: router and
/// IoT firmware endpoints, framework log files, file-manager connectors of CMS and editor
/// plugins, Exchange's autodiscover chains (ProxyLogon, ProxyShell), appliance and
/// middleware consoles, dropped webshells. Matched on path-segment boundaries like
/// `scanner::EXTRA_PROBE_PATHS`, and only on a 404 (an application that serves one of them
/// answers it).
pub(crate) const CAMPAIGN_PROBE_PATHS: &[Group] = &[
    Group {
        why: "router, modem, camera and NAS firmware endpoints of botnet exploits",
        entries: &[
            "/gponform/diag_form",
            "/tmunblock.cgi",
            "/hndunblock.cgi",
            "/ctrlt/deviceupgrade_1",
            "/picsdesc.xml",
            "/hedwig.cgi",
            "/getcfg.php",
            "/command.php",
            "/cgi-bin/luci",
            "/cgi-bin/kerbynet",
            "/cgi-bin/mainfunction.cgi",
            "/cgi-bin/nas_sharing.cgi",
            "/cgi-bin/authlogin.cgi",
            "/device.rsp",
            "/board.cgi",
            "/web_shell_cmd.gch",
            "/currentsetting.htm",
            "/ud/act",
            "/shell",
            "/apply.cgi",
            "/login.cgi",
            "/soap.cgi",
        ],
    },
    Group {
        why: "framework and server log files (stack traces, queries, secrets)",
        entries: &[
            "/storage/logs/laravel.log",
            "/storage/logs/",
            "/log/production.log",
            "/log/development.log",
            "/logs/access.log",
            "/logs/error_log",
            "/error_log",
            "/var/log/",
            "/application/logs/",
            "/runtime/log/",
            "/sites/default/files/logs/",
        ],
    },
    Group {
        why: "file-manager and upload connectors of CMS and editor plugins",
        entries: &[
            "/fckeditor/editor/filemanager/",
            "/ckfinder/core/connector/",
            "/elfinder/php/connector",
            "/connector.minimal.php",
            "/kcfinder/upload.php",
            "/filemanager/dialog.php",
            "/filemanager/upload.php",
            "/uploadify/uploadify.php",
            "/server/php/upload.class.php",
            "/wp-content/plugins/wp-file-manager/",
            "/wp-content/plugins/revslider/",
            "/wp-content/plugins/wp-mobile-detector/",
            "/plupload/examples/upload.php",
        ],
    },
    Group {
        why: "Exchange autodiscover and back-end chains (ProxyLogon, ProxyShell, ProxyNotShell)",
        entries: &[
            "/autodiscover/autodiscover.json",
            "/mapi/nspi",
            "/ews/exchange.asmx",
            "/rpc/rpcproxy.dll",
            "/aspnet_client/",
            "/owa/auth/logon.aspx",
            "/ecp/default.flt",
            "/powershell/",
        ],
    },
    Group {
        why: "VPN, middleware and appliance endpoints of mass-exploited CVEs",
        entries: &[
            "/remote/fgt_lang",
            "/vpns/",
            "/wls-wsat/",
            "/_async/asyncresponseservice",
            "/console/css/",
            "/manager/text/",
            "/mifs/",
            "/telerik.web.ui.webresource.axd",
            "/webtools/control/",
            "/oa_html/",
            "/api/v1/totp/user-backup-code",
            "/mgmt/shared/authn/login",
        ],
    },
    Group {
        why: "webshells and backdoors dropped by earlier compromises",
        entries: &[
            "/admin/root.php",
            "/wso.php",
            "/alfa.php",
            "/b374k.php",
            "/indoxploit.php",
            "/up.php",
            "/x.php",
            "/0x.php",
            "/radio.php",
            "/wp-content/uploads/shell.php",
            "/wp-includes/wp-class.php",
            "/wp-admin/css/colors/blue/",
        ],
    },
];

/// Every campaign probe path.
pub(crate) fn campaign_probe_paths() -> impl Iterator<Item = &'static str> {
    CAMPAIGN_PROBE_PATHS
        .iter()
        .flat_map(|g| g.entries.iter().copied())
}

/// Sensitive file names, by what they hold. An entry ending in `/` is a directory, one ending
/// in `.`, `-`, `_` a name prefix (`wp-config.php.bak`); a leading `/` anchors it at a segment
/// start after the host's root or any directory.
pub(crate) const SENSITIVE_FILES: &[FileGroup] = &[
    files(
        Scope::Anywhere,
        "web server access control and runtime settings: reveal or bypass who may read what",
        &[
            ".htaccess",
            ".htpasswd",
            ".htdigest",
            ".user.ini",
            ".www_acl",
            ".wwwacl",
            ".lighttpdpassword",
            "/web.config",
            ".web.config.swp",
            "php.ini",
            "web-inf/",
            "meta-inf/",
        ],
    ),
    files(
        Scope::Anywhere,
        "version control metadata: the whole source history, often with credentials",
        &[
            ".git/",
            ".gitconfig",
            ".git-credentials",
            ".svn/",
            ".subversion/",
            ".hg/",
            ".bzr/",
            ".cvs",
        ],
    ),
    files(
        Scope::Anywhere,
        "environment and secret files of applications and deployments",
        &[
            ".env",
            ".envrc",
            ".secrets",
            ".credentials",
            ".deployment-secrets.txt",
            ".dockerenv",
            "credentials.json",
            "secrets.json",
            "secrets.yaml",
            "secrets.yml",
            "user_secrets.yml",
            "sendgrid.env",
            "initial_root_password",
            "gitlab.rb",
            "aws.yaml",
            "aws.yml",
            "aws-key.yaml",
            "aws-key.yml",
            "config.inc.php",
            "wp-config.",
            "wp-config-",
            "wp-config_",
            "/app/etc/env.php",
            "/app/etc/local.xml",
            "/sites/default/settings.php",
            "/sites/default/settings.local.php",
            "/config/parameters.yml",
        ],
    ),
    files(
        Scope::Anywhere,
        "cloud, container and infrastructure tools' credentials",
        &[
            ".aws/",
            ".azure/",
            ".boto",
            ".gsutil/",
            ".s3cfg",
            ".kube/",
            ".minikube/",
            ".docker/",
            ".oci/",
            ".opc/",
            ".bluemix/",
            ".ibmcloud/",
            ".linode-cli/",
            ".pulumi/",
            ".terraform/",
            ".terraform.d/",
            ".terraformrc",
            ".terraform.lock.hcl",
            ".vagrant.d/",
            ".datadog-agent/",
            ".kaggle/",
            ".cpanel/",
            ".usermin/",
            ".wp-cli/",
            ".drush/",
        ],
    ),
    files(
        Scope::Anywhere,
        "keys, password stores and remote-access settings",
        &[
            ".ssh/",
            ".gnupg/",
            ".pki/",
            ".password-store",
            ".google_authenticator",
            ".netrc",
            ".rhosts",
            ".forward",
            ".pgpass",
            ".pg_service.conf",
            ".my.cnf",
            ".mylogin.cnf",
            ".pass",
            ".passwd",
            ".pwd",
            ".xauthority",
            ".openssl.cnf",
            ".openvpn/",
            "openvpn/",
            "wg-clients/",
            ".tor/",
            ".vidalia/",
            ".anydesk/",
            ".tconn/",
            ".myscmserverinfo",
            ".access/",
            ".addressbook",
        ],
    ),
    files(
        Scope::Anywhere,
        "mail and file transfer clients' settings, with server passwords",
        &[
            ".msmtprc",
            ".procmailrc",
            ".proclog",
            ".pinerc",
            ".mbsyncrc",
            ".offlineimaprc",
            ".getmail/",
            ".ftpconfig",
            ".lftp/",
            ".lftprc",
            ".ncftp/",
            ".gftp/",
            "/.ws_ftp.ini",
            ".remote-sync.json",
            "sftp.json",
            "ftp-sync.json",
            ".rsync_exclude",
            ".lynx_cookies",
            ".curlrc",
            ".wgetrc",
            ".wget-hsts",
        ],
    ),
    files(
        Scope::Anywhere,
        "package registries' tokens",
        &[
            ".npmrc",
            ".pypirc",
            ".gemrc",
            ".pearrc",
            ".cpan/",
            ".cpanplus/",
            ".plenv",
            ".npm-global/",
        ],
    ),
    files(
        Scope::Anywhere,
        "shells' start-up files and histories: commands typed, often with passwords",
        &[
            ".bash_",
            ".bashrc",
            ".profile",
            ".zshrc",
            ".zshenv",
            ".zsh_history",
            ".zhistory",
            ".sh_history",
            ".ksh_history",
            ".kshrc",
            ".cshrc",
            ".tcshrc",
            ".csh_history",
            ".tcsh_history",
            ".ash_history",
            ".ashrc",
            "config.fish",
            "fish_variables",
            "config.nu",
            ".lesshst",
            ".viminfo",
            ".vimrc",
        ],
    ),
    files(
        Scope::Anywhere,
        "interpreters' and database clients' histories",
        &[
            ".mysql_history",
            ".psql_history",
            ".sqlite_history",
            ".sqlplus_history",
            ".rediscli_history",
            ".dbshell",
            ".mongoshrc.js",
            ".mongodb/",
            ".pgadmin/",
            ".python_history",
            ".node_repl_history",
            ".php_history",
            ".irb_history",
            ".irbrc/",
            ".pryrc/",
            ".perl_repl_history",
            ".perlhistory",
            ".perldb",
            ".kotlinc_history",
            ".lldb-history",
            ".rhistory",
            ".lhistory",
            ".nano_history",
            "login.sql",
        ],
    ),
    files(
        Scope::Anywhere,
        "database and resolver configuration with credentials",
        &[
            "my.cnf",
            "debian.cnf",
            "mysql.cnf",
            "mysqldump.cnf",
            ".stubby.yml",
            ".getdns/",
            ".digrc",
            ".unbound/",
            ".nsconfig",
            ".nsr",
            ".fbcindex",
            ".aptitude/config",
            ".pm2/",
        ],
    ),
    files(
        Scope::Anywhere,
        "Windows system files",
        &["boot.ini", "win.ini", "system.ini"],
    ),
    files(
        Scope::Anywhere,
        "Linux pseudo-file systems, anywhere in a path: the process, kernel and hardware",
        &["/proc/", "/sys/"],
    ),
    files(
        Scope::Anywhere,
        "development servers that serve any file by absolute path (Vite's /@fs/)",
        &["/@fs/"],
    ),
    files(
        Scope::Path,
        "version control and editor settings: harmless names, but nobody serves them",
        &[
            ".gitignore",
            ".gitattributes",
            ".gitkeep",
            ".gitmodules",
            ".hgignore",
            ".svnignore",
            ".editorconfig",
            ".idea",
            ".vscode",
            ".settings/",
            ".vim/",
            ".nano/",
            ".nanorc",
            ".atom/",
            ".eclipse/",
            ".idlerc/",
            ".selected_editor",
            ".screenrc",
            ".tmux.conf",
            ".aiignore",
            ".cursorignore",
        ],
    ),
    files(
        Scope::Path,
        "continuous integration, linters and test caches",
        &[
            ".travis.yml",
            ".travis.yaml",
            ".gitlab-ci.yml",
            ".coveralls.yml",
            ".coverage",
            ".eslintrc",
            ".eslintignore",
            ".jshintrc",
            ".prettierrc",
            ".rubocop.yml",
            ".php_cs.dist",
            ".phpcs.xml",
            ".phpcs.xml.dist",
            ".pytest_cache/",
            ".mypy_cache/",
            ".ipynb_checkpoints/",
            ".dockerignore",
            ".bowerrc",
        ],
    ),
    files(
        Scope::Path,
        "language toolchains and package caches in a home directory",
        &[
            ".cargo/",
            ".rustup",
            ".npm/",
            ".nvm/",
            ".yarnrc",
            ".yarnrc.yml",
            ".bun/",
            ".bunfig.toml",
            ".node-gyp",
            ".gem/",
            ".bundle/",
            ".rbenv/",
            ".rvm/",
            ".pip/",
            ".pyenv/",
            ".condarc",
            ".m2/",
            ".gradle/",
            ".sdkman/",
            ".java/",
            ".konan/",
            ".keras/",
            ".chocolatey/",
            ".oh-my-",
            ".fish",
            ".local/bin/",
            ".local/lib/",
            ".local/share/",
            ".local/state/",
        ],
    ),
    files(
        Scope::Path,
        "desktop and system directories in a home directory",
        &[
            ".cache/",
            ".config/",
            ".snap/",
            ".tools/",
            ".gnome/",
            ".gnome2/",
            ".gnomerc/",
            ".thunderbird/",
            ".vmware/",
            ".wine/",
            ".hplip/",
            ".redhat/",
            ".dbus/",
            ".cups/",
        ],
    ),
    files(
        Scope::Path,
        "logs: paths, queries and stack traces",
        &[
            "debug.log",
            "error.log",
            "errors.log",
            "php_error.log",
            "php_errors.log",
            "npm-debug.log",
            "yarn-debug.log",
            "yarn-error.log",
            "pm2.log",
            "rsync.log",
            "blockcypher.log",
        ],
    ),
    files(
        Scope::Path,
        "development servers' module ids (Vite's /@id/)",
        &["/@id/"],
    ),
    files(Scope::Path, "PHP information pages", &["phpinfo.php"]),
    files(
        Scope::Probe,
        "configuration of PHP, Java and CMS applications",
        &[
            "config.sample.inc.php",
            "defaults.inc.php",
            "gitlab_config_",
            "weblogic.xml",
            "/config/routing.yml",
            "/config/security.yml",
            "/config/services.yml",
            "/config/settings.inc.php",
            "/app/config/parameters.php",
            "/sites/default/default.settings.php",
            "database.yml",
            "database.yaml",
            "/auth.json",
            "sslvpn_websession",
            "ldap-authentication-report.csv",
        ],
    ),
    files(
        Scope::Probe,
        "package manifests and lock files: versions to look up in vulnerability databases",
        &[
            "/package.json",
            "/package-lock.json",
            "/npm-shrinkwrap.json",
            "/yarn.lock",
            "/composer.json",
            "/composer.lock",
            "/packages.json",
            "bower.json",
            "cargo.toml",
            "go.mod",
            "go.sum",
            "pyproject.toml",
            "setup.py",
            "pytest.ini",
            "build.zig.zon",
            "node_modules/.bin/",
            "node_modules/.cache/",
            "__pycache__/",
            "anaconda3/",
            "miniconda3/",
            "perl/lib",
            "perl/bin",
        ],
    ),
    files(
        Scope::Probe,
        "build and container definitions",
        &[
            "dockerfile",
            "compose.yml",
            "compose.yaml",
            "/gruntfile.js",
            "/webpack.config.js",
            "nbproject/",
            "coverage.xml",
            "phpcs.xml",
            "phpcs.xml.dist",
        ],
    ),
    files(
        Scope::Probe,
        "operating systems' folder metadata: directory listings",
        &["/.ds_store", "desktop.ini", "thumbs.db"],
    ),
];

/// Base names of configuration files, with the environment qualifiers and extensions they take
/// (`config.php`, `config-dev.json`, `config.sample.yml`): see [`config_variants`].
const CONFIG_QUALIFIERS: &[&str] = &["", "dev", "prod", "sample", "test"];
const CONFIG_SEPARATORS: &[&str] = &["_", "-", "."];
const CONFIG_EXTENSIONS: &[&str] = &[
    "asp", "ini", "json", "php", "pl", "py", "rb", "toml", "txt", "xml", "yaml", "yml",
];

/// Every `config[<sep><qualifier>].<ext>` name: a probe (scope [`Scope::Probe`]), since
/// applications do serve files called `config.json`.
pub(crate) fn config_variants() -> impl Iterator<Item = String> {
    CONFIG_EXTENSIONS.iter().flat_map(|ext| {
        CONFIG_QUALIFIERS.iter().flat_map(move |q| {
            let seps: &[&str] = if q.is_empty() {
                &[""]
            } else {
                CONFIG_SEPARATORS
            };
            seps.iter().map(move |s| format!("config{s}{q}.{ext}"))
        })
    })
}

/// What follows `.sql.` in the name of a compressed, archived or split database dump
/// (`backup.sql.gz`, `db.sql.r01`); matched as prefixes (`bz` covers `bz2`, `z` covers `zip`).
pub(crate) const SQL_DUMP_SUFFIXES: &[&str] = &[
    "gz", "bz", "xz", "lz", "z", "7z", "rar", "tar", "tgz", "tbz", "txz", "taz", "cpio", "arj",
    "lha", "ace", "uha", "pea", "pa", "yz1", "rev", "001", "r0",
];

/// Entries of Linux's `/proc` (proc(5)) that reveal the process, the kernel or the hardware,
/// as `proc/<name>`: they count in values without their leading `/` too (`proc/cpuinfo`).
/// Process directories (`proc/1`, `proc/self`) are covered by their first digit.
const PROC_ENTRIES: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "self",
    "thread-self",
    "acpi",
    "asound",
    "bootconfig",
    "buddyinfo",
    "bus",
    "cgroups",
    "cmdline",
    "config.gz",
    "consoles",
    "cpuinfo",
    "crypto",
    "devices",
    "diskstats",
    "dma",
    "docker",
    "driver",
    "dynamic_debug",
    "execdomains",
    "fb",
    "filesystems",
    "fs",
    "interrupts",
    "iomem",
    "ioports",
    "ipmi",
    "irq",
    "kallsyms",
    "kcore",
    "key-users",
    "keys",
    "kmsg",
    "kpagecgroup",
    "kpagecount",
    "kpageflags",
    "latency_stats",
    "loadavg",
    "locks",
    "mdstat",
    "meminfo",
    "misc",
    "modules",
    "mounts",
    "mpt",
    "mtd",
    "mtrr",
    "net",
    "pagetypeinfo",
    "partitions",
    "pressure",
    "sched_debug",
    "schedstat",
    "scsi",
    "slabinfo",
    "softirqs",
    "stat",
    "swaps",
    "sys",
    "sysrq-trigger",
    "sysvipc",
    "timer_list",
    "timer_stats",
    "tty",
    "uptime",
    "version",
    "version_signature",
    "vmallocinfo",
    "vmstat",
    "zoneinfo",
];

/// The top-level directories of Linux's `/sys` (sysfs(5)), as `sys/<name>`.
const SYS_ENTRIES: &[&str] = &[
    "block",
    "bus",
    "class",
    "dev",
    "devices",
    "firmware",
    "fs",
    "hypervisor",
    "kernel",
    "module",
    "power",
];

/// Every sensitive file name with its scope: the groups, `/proc` and `/sys` entries, then the
/// configuration variants.
pub(crate) fn sensitive_files() -> impl Iterator<Item = (String, Scope)> {
    let pseudo = PROC_ENTRIES
        .iter()
        .map(|e| format!("proc/{e}"))
        .chain(SYS_ENTRIES.iter().map(|e| format!("sys/{e}")));
    SENSITIVE_FILES
        .iter()
        .flat_map(|g| g.group.entries.iter().map(|e| (e.to_string(), g.scope)))
        .chain(pseudo.map(|e| (e, Scope::Anywhere)))
        .chain(config_variants().map(|c| (c, Scope::Probe)))
}

/// Every scanner User-Agent token.
pub(crate) fn scanner_user_agents() -> impl Iterator<Item = &'static str> {
    SCANNER_USER_AGENTS
        .iter()
        .flat_map(|g| g.entries.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_lower_case_trimmed_and_unique() {
        let mut seen = std::collections::HashSet::new();
        let all = sensitive_files()
            .map(|(e, _)| e)
            .chain(scanner_user_agents().map(str::to_owned))
            .chain(campaign_probe_paths().map(str::to_owned))
            .chain(SQL_DUMP_SUFFIXES.iter().map(|s| format!(".sql.{s}")));
        for e in all {
            assert_eq!(e, e.to_ascii_lowercase(), "{e}");
            assert_eq!(e.trim(), e, "{e:?}");
            assert!(e.len() >= 3, "{e:?}");
            assert!(seen.insert(e.clone()), "listed twice: {e}");
        }
        assert_eq!(config_variants().count(), 12 * (1 + 4 * 3));
    }

    #[test]
    fn every_group_says_why() {
        for g in SCANNER_USER_AGENTS
            .iter()
            .chain(CAMPAIGN_PROBE_PATHS)
            .chain(SENSITIVE_FILES.iter().map(|f| &f.group))
        {
            assert!(g.why.len() > 8 && !g.entries.is_empty(), "{}", g.why);
        }
    }
}
