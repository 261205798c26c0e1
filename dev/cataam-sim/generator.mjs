// Seeded, deterministic generator of realistic CATAAM findings: iASM findings (exposed services,
// weak TLS, open data stores, …) and compliance test failures (ISO 27001, SOC 2, PCI DSS, CIS).
// Same seed → same findings, byte for byte. Also home of the seeded PRNG and ULID helpers the
// simulator uses for fault decisions and ids.

import { createHash } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Small, fast, seedable PRNG (sfc32) returning floats in [0, 1). `seed` may be a number or string. */
export function makeRng(seed) {
  const h = createHash('sha256').update(String(seed ?? 0)).digest();
  let a = h.readUInt32LE(0), b = h.readUInt32LE(4), c = h.readUInt32LE(8), d = h.readUInt32LE(12);
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b | 0) + d | 0;
    d = d + 1 | 0;
    a = b ^ b >>> 9;
    b = c + (c << 3) | 0;
    c = (c << 21 | c >>> 11);
    c = c + t | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  const rng = () => next();
  rng.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  rng.pick = (arr) => arr[Math.floor(next() * arr.length)];
  rng.chance = (p) => next() < p;
  rng.weighted = (pairs) => {
    const total = pairs.reduce((s, [, w]) => s + w, 0);
    let r = next() * total;
    for (const [v, w] of pairs) { if ((r -= w) < 0) return v; }
    return pairs[pairs.length - 1][0];
  };
  return rng;
}

/** A ULID (26 Crockford base32 chars) for time `ms`; randomness from `rand()` (floats in [0,1)). */
export function ulid(ms, rand) {
  let time = '';
  let t = Math.max(0, Math.floor(ms));
  for (let i = 0; i < 10; i++) { time = CROCKFORD[t % 32] + time; t = Math.floor(t / 32); }
  let tail = '';
  for (let i = 0; i < 16; i++) tail += CROCKFORD[Math.floor(rand() * 32)];
  return time + tail;
}

/** Real MITRE ATT&CK (Enterprise) techniques used by the generator. */
export const MITRE_TECHNIQUES = {
  T1190: 'Exploit Public-Facing Application',
  T1133: 'External Remote Services',
  'T1021.001': 'Remote Services: Remote Desktop Protocol',
  'T1021.004': 'Remote Services: SSH',
  'T1110.001': 'Brute Force: Password Guessing',
  'T1110.003': 'Brute Force: Password Spraying',
  'T1078.001': 'Valid Accounts: Default Accounts',
  'T1078.004': 'Valid Accounts: Cloud Accounts',
  T1210: 'Exploitation of Remote Services',
  T1530: 'Data from Cloud Storage',
  T1213: 'Data from Information Repositories',
  'T1552.001': 'Unsecured Credentials: Credentials In Files',
  'T1552.005': 'Unsecured Credentials: Cloud Instance Metadata API',
  T1557: 'Adversary-in-the-Middle',
  T1040: 'Network Sniffing',
  T1046: 'Network Service Discovery',
  'T1590.002': 'Gather Victim Network Information: DNS',
  'T1592.002': 'Gather Victim Host Information: Software',
  'T1584.001': 'Compromise Infrastructure: Domains',
  T1610: 'Deploy Container',
  'T1505.003': 'Server Software Component: Web Shell',
  T1189: 'Drive-by Compromise',
  'T1098.001': 'Account Manipulation: Additional Cloud Credentials',
  T1562: 'Impair Defenses',
};

const SUBDOMAINS = ['vpn', 'api', 'portal', 'mail', 'gw', 'admin', 'jenkins', 'grafana', 'files', 'legacy',
  'staging', 'dev', 'sso', 'shop', 'status', 'crm', 'build', 'edge', 'db', 'backup'];
const REGIONS = ['eu-west-1', 'us-east-1', 'us-west-2', 'eu-central-1', 'ap-southeast-2'];
const DOMAINS = ['acme-corp.com', 'acme-corp.net', 'acme.io', 'acme-payments.com'];

const SLA_DAYS = { CRITICAL: 7, HIGH: 30, MEDIUM: 60, LOW: 90, INFO: 180 };
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'];

/** iASM finding templates. `{…}` placeholders are filled from the generated asset. */
const IASM = [
  {
    title: 'Exposed RDP service', port: 3389, service: 'ms-wbt-server', severity: 'HIGH', mitre: 'T1021.001',
    controls: ['ISO 27001 A.8.20', 'SOC 2 CC6.6', 'PCI DSS 1.3.1', 'CIS Controls 4.4'],
    description: 'Remote Desktop Protocol is reachable from the internet on {ip}:{port} ({host}). The service answered an RDP negotiation request with NLA {nla}, and the host was observed in {scans} consecutive external scans. Internet-facing RDP is one of the most common initial-access vectors for ransomware operators, who brute-force or reuse leaked credentials against it.',
    remediation: 'Remove the public exposure: restrict TCP {port} to the corporate VPN or a bastion host with a security group / firewall rule, and require Network Level Authentication. If remote access is required, publish it through a remote-desktop gateway with MFA. Review the Windows security log (event IDs 4625 and 4624, logon type 10) for signs of brute-force activity.',
  },
  {
    title: 'SSH password authentication enabled', port: 22, service: 'ssh', severity: 'MEDIUM', mitre: 'T1110.001',
    controls: ['ISO 27001 A.8.5', 'SOC 2 CC6.1', 'CIS Controls 5.2'],
    description: 'The OpenSSH server on {host} ({ip}:{port}) advertises the "password" and "keyboard-interactive" authentication methods to unauthenticated clients. Password logins expose the host to credential guessing and password-spraying from the internet; {attempts} failed attempts per hour were observed from external sources.',
    remediation: 'Set "PasswordAuthentication no" and "KbdInteractiveAuthentication no" in /etc/ssh/sshd_config, distribute SSH keys (or use short-lived SSH certificates), and reload sshd. Limit TCP {port} to known administrative networks.',
  },
  {
    title: 'Expired TLS certificate', port: 443, service: 'https', severity: 'MEDIUM', mitre: 'T1557',
    controls: ['ISO 27001 A.8.24', 'PCI DSS 4.2.1', 'SOC 2 CC6.7'],
    description: 'The certificate served by {host} ({ip}:{port}) expired {days} days ago (issuer: {issuer}). Browsers and API clients reject the connection or, worse, users are trained to click through certificate warnings, which enables man-in-the-middle attacks.',
    remediation: 'Renew the certificate and automate renewal (ACME / AWS Certificate Manager). Add certificate-expiry monitoring that alerts at least 30 days before expiry.',
  },
  {
    title: 'Deprecated TLS 1.0/1.1 protocols enabled', port: 443, service: 'https', severity: 'LOW', mitre: 'T1557',
    controls: ['PCI DSS 4.2.1', 'ISO 27001 A.8.24'],
    description: '{host} ({ip}:{port}) still negotiates TLS 1.0 and TLS 1.1 with CBC-mode cipher suites. These protocol versions are deprecated (RFC 8996) and are not allowed for cardholder data under PCI DSS.',
    remediation: 'Disable TLS 1.0 and 1.1 on the load balancer / web server and allow only TLS 1.2 with AEAD cipher suites and TLS 1.3. Verify with an external TLS scan after the change.',
  },
  {
    title: 'Publicly readable S3 bucket', port: 443, service: 'https', severity: 'HIGH', mitre: 'T1530', cloud: 'aws',
    controls: ['ISO 27001 A.5.15', 'SOC 2 CC6.1', 'CIS AWS Foundations 2.1.4'],
    description: 'The bucket {bucket} in account {account} allows anonymous "s3:ListBucket" and "s3:GetObject" through its bucket policy. {objects} objects are listable without authentication, including files whose names suggest database exports.',
    remediation: 'Enable S3 Block Public Access at the account level, remove the "Principal": "*" statement from the bucket policy, and review the CloudTrail data events of the bucket for anonymous reads. Rotate any credentials that were stored in the exposed objects.',
  },
  {
    title: 'Elasticsearch cluster exposed without authentication', port: 9200, service: 'elasticsearch', severity: 'CRITICAL', mitre: 'T1213',
    controls: ['ISO 27001 A.8.3', 'SOC 2 CC6.1', 'PCI DSS 1.3.1'],
    description: 'An Elasticsearch {esver} node on {ip}:{port} ({host}) answers the REST API without authentication. The cluster holds {indices} indices; "_cat/indices" is readable and write requests are accepted.',
    remediation: 'Enable Elasticsearch security (TLS + built-in authentication), bind the HTTP interface to private addresses only, and put the cluster behind a firewall rule that allows only the application subnets. Check the audit trail for unknown index deletions or ransom notes.',
  },
  {
    title: 'MongoDB instance accessible without authentication', port: 27017, service: 'mongodb', severity: 'CRITICAL', mitre: 'T1190',
    controls: ['ISO 27001 A.8.3', 'SOC 2 CC6.1', 'PCI DSS 8.2.1'],
    description: 'MongoDB on {ip}:{port} ({host}) accepts unauthenticated connections and lists {dbs} databases. Exposed MongoDB instances are routinely wiped and ransomed by automated campaigns within hours of discovery.',
    remediation: 'Enable access control (security.authorization: enabled), create least-privilege users, bind to private interfaces and block TCP {port} at the perimeter.',
  },
  {
    title: 'Apache HTTP Server vulnerable to path traversal (CVE-2021-41773)', port: 80, service: 'http', severity: 'CRITICAL', mitre: 'T1190',
    controls: ['ISO 27001 A.8.8', 'SOC 2 CC7.1', 'PCI DSS 6.3.3'],
    description: '{host} ({ip}:{port}) runs Apache httpd 2.4.49, which is affected by CVE-2021-41773 (path traversal and remote code execution when mod_cgi is enabled). The vulnerability is listed in the CISA Known Exploited Vulnerabilities catalogue.',
    remediation: 'Upgrade Apache httpd to 2.4.51 or later immediately, confirm "Require all denied" protects the filesystem root, and review access logs for requests containing "/.%2e/".',
  },
  {
    title: 'Kubernetes API server exposed to the internet', port: 6443, service: 'kubernetes', severity: 'HIGH', mitre: 'T1133',
    controls: ['ISO 27001 A.8.20', 'SOC 2 CC6.6', 'CIS Controls 12.2'],
    description: 'The Kubernetes API server of cluster {cluster} is reachable at {ip}:{port} from any address. Anonymous requests to /version succeed, disclosing Kubernetes {k8sver}.',
    remediation: 'Enable the private endpoint and restrict the public endpoint to known CIDR ranges, disable anonymous authentication (--anonymous-auth=false), and upgrade the control plane to a supported version.',
  },
  {
    title: 'SMB service exposed to the internet', port: 445, service: 'microsoft-ds', severity: 'HIGH', mitre: 'T1210',
    controls: ['ISO 27001 A.8.20', 'CIS Controls 4.4', 'PCI DSS 1.3.1'],
    description: 'TCP 445 (SMB) on {ip} ({host}) accepts connections from the internet and negotiates SMBv1. SMB exposure enabled the WannaCry and NotPetya outbreaks (EternalBlue, MS17-010).',
    remediation: 'Block TCP 139/445 at the perimeter, disable SMBv1 on the host, and apply the MS17-010 patch level or later.',
  },
  {
    title: 'Dangling DNS record allows subdomain takeover', port: 443, service: 'https', severity: 'HIGH', mitre: 'T1584.001',
    controls: ['ISO 27001 A.5.9', 'SOC 2 CC6.8'],
    description: '{host} is a CNAME to {dangling}, which no longer exists. Anyone can claim that name with the hosting provider and serve content (or steal cookies scoped to the parent domain) under {host}.',
    remediation: 'Delete the stale CNAME record (or re-claim the target resource), and add DNS-record ownership checks to the decommissioning checklist.',
  },
  {
    title: 'Missing HTTP Strict Transport Security header', port: 443, service: 'https', severity: 'LOW', mitre: 'T1557',
    controls: ['ISO 27001 A.8.26', 'PCI DSS 6.4.1'],
    description: 'Responses from https://{host}/ do not include a Strict-Transport-Security header, so a network attacker can downgrade first visits to plain HTTP (SSL stripping).',
    remediation: 'Send "Strict-Transport-Security: max-age=31536000; includeSubDomains" from the edge and consider HSTS preloading once every subdomain serves HTTPS.',
  },
  {
    title: 'Git repository metadata exposed (/.git/)', port: 443, service: 'https', severity: 'HIGH', mitre: 'T1552.001',
    controls: ['ISO 27001 A.8.4', 'SOC 2 CC6.1'],
    description: 'https://{host}/.git/HEAD and /.git/config are downloadable. The complete source history, including configuration files with credentials committed in the past, can be reconstructed from the exposed object store.',
    remediation: 'Block access to dot-directories in the web server configuration, remove .git from the deployed artefact, and rotate every secret that appears anywhere in the repository history.',
  },
  {
    title: 'Jenkins dashboard exposed without authentication', port: 8080, service: 'http-proxy', severity: 'HIGH', mitre: 'T1190',
    controls: ['ISO 27001 A.8.2', 'SOC 2 CC6.1', 'CIS Controls 6.1'],
    description: 'The Jenkins {jenkinsver} dashboard at http://{host}:{port}/ grants read access to anonymous users, exposing build logs and job configuration; the script console is reachable.',
    remediation: 'Configure Jenkins security (matrix-based authorisation, no anonymous read), put the instance behind SSO, and upgrade to the current LTS release.',
  },
  {
    title: 'DNS zone transfer (AXFR) permitted', port: 53, service: 'domain', severity: 'MEDIUM', mitre: 'T1590.002',
    controls: ['ISO 27001 A.8.20', 'CIS Controls 4.8'],
    description: 'The name server {host} ({ip}) answers AXFR requests from arbitrary clients for {domain}, disclosing {records} internal host names and addresses.',
    remediation: 'Restrict zone transfers to the secondary name servers (allow-transfer / TSIG keys) and review the zone for internal names that should not be published.',
  },
  {
    title: 'Redis exposed without authentication', port: 6379, service: 'redis', severity: 'CRITICAL', mitre: 'T1190',
    controls: ['ISO 27001 A.8.3', 'SOC 2 CC6.1'],
    description: 'Redis {redisver} on {ip}:{port} ({host}) accepts commands without AUTH. Attackers abuse CONFIG SET to write SSH keys or cron jobs to disk and gain code execution.',
    remediation: 'Enable protected-mode and ACLs with strong passwords, bind to private interfaces, rename or disable CONFIG, and block TCP {port} at the perimeter.',
  },
  {
    title: 'Telnet service exposed', port: 23, service: 'telnet', severity: 'HIGH', mitre: 'T1040',
    controls: ['ISO 27001 A.8.20', 'PCI DSS 2.2.7', 'CIS Controls 4.8'],
    description: 'Telnet is enabled on {host} ({ip}:{port}); the banner identifies a network device management interface. Credentials and session contents travel in clear text.',
    remediation: 'Disable Telnet and manage the device over SSH from the management network only.',
  },
  {
    title: 'Docker Engine API exposed without TLS', port: 2375, service: 'docker', severity: 'CRITICAL', mitre: 'T1610',
    controls: ['ISO 27001 A.8.9', 'SOC 2 CC6.1', 'CIS Controls 4.1'],
    description: 'The Docker daemon on {ip}:{port} ({host}) exposes its API over plain TCP without client authentication. Anyone can start privileged containers and take over the host; {containers} containers are running.',
    remediation: 'Stop listening on tcp://0.0.0.0:2375, use the Unix socket or mutual-TLS on 2376, and check the host for unexpected containers (cryptominers are common).',
  },
  {
    title: 'Anonymous FTP login allowed', port: 21, service: 'ftp', severity: 'MEDIUM', mitre: 'T1078.001',
    controls: ['ISO 27001 A.8.3', 'PCI DSS 8.2.2'],
    description: 'The FTP server on {host} ({ip}:{port}) accepts the "anonymous" account and lists {files} files in the root directory.',
    remediation: 'Disable anonymous access, migrate file exchange to SFTP with per-partner accounts, and review the exposed files for sensitive data.',
  },
  {
    title: 'Cloud instance metadata reachable through open proxy', port: 3128, service: 'squid-http', severity: 'HIGH', mitre: 'T1552.005', cloud: 'aws',
    controls: ['ISO 27001 A.8.20', 'SOC 2 CC6.6', 'CIS AWS Foundations 5.6'],
    description: 'An open HTTP proxy on {ip}:{port} ({host}) forwards requests to 169.254.169.254, exposing the EC2 instance metadata service (IMDSv1) and the temporary credentials of the instance role in account {account}.',
    remediation: 'Close the proxy to the internet, require IMDSv2 (HttpTokens=required) on all instances, and rotate the instance role credentials.',
  },
  {
    title: 'Web server discloses software version in banner', port: 443, service: 'https', severity: 'INFO', mitre: 'T1592.002',
    controls: ['ISO 27001 A.8.9'],
    description: 'Responses from {host} include "Server: nginx/{nginxver}" and "X-Powered-By: PHP/{phpver}" headers, which help attackers match the host to known vulnerabilities.',
    remediation: 'Set "server_tokens off" in nginx and "expose_php = Off" in php.ini.',
  },
  {
    title: 'Self-signed certificate on public endpoint', port: 8443, service: 'https-alt', severity: 'LOW', mitre: 'T1557',
    controls: ['ISO 27001 A.8.24'],
    description: '{host} ({ip}:{port}) presents a self-signed certificate (CN={host}). Clients cannot authenticate the server and are likely to disable certificate validation.',
    remediation: 'Replace it with a certificate from a trusted CA, or remove the endpoint from the internet if it is an internal management interface.',
  },
];

/** Compliance tests: framework, control, test name, and a failure-log builder. */
const COMPLIANCE = [
  { framework: 'ISO 27001', controlId: 'A.8.8', testName: 'Critical OS patches applied within 14 days', severity: 'HIGH', mitre: 'T1190',
    check: 'patch.critical_within_sla', resource: (r) => `i-0${hex(r, 16)}`, problem: (r) => `missing ${r.int(1, 6)} critical updates (oldest KB${r.int(5030000, 5049999)}, ${r.int(15, 60)} days overdue)` },
  { framework: 'ISO 27001', controlId: 'A.8.5', testName: 'MFA enforced for all console users', severity: 'HIGH', mitre: 'T1078.004',
    check: 'iam.console_mfa', resource: (r) => `user/${r.pick(['j.smith', 'deploy-bot', 'm.garcia', 'contractor-04', 'a.nguyen', 'ops-admin'])}`, problem: () => 'console password set, no MFA device' },
  { framework: 'ISO 27001', controlId: 'A.8.24', testName: 'EBS volumes encrypted at rest', severity: 'MEDIUM', mitre: null,
    check: 'ec2.ebs_encryption', resource: (r) => `vol-0${hex(r, 16)}`, problem: () => 'Encrypted=false' },
  { framework: 'ISO 27001', controlId: 'A.8.15', testName: 'Audit logging enabled in all regions', severity: 'MEDIUM', mitre: 'T1562',
    check: 'cloudtrail.multi_region', resource: (r) => `region/${r.pick(REGIONS)}`, problem: () => 'no multi-region trail is logging' },
  { framework: 'SOC 2', controlId: 'CC6.1', testName: 'IAM password policy meets minimum requirements', severity: 'MEDIUM', mitre: 'T1110.003',
    check: 'iam.password_policy', resource: () => 'account-password-policy', problem: (r) => `MinimumPasswordLength=${r.int(6, 11)} (required >= 14), RequireSymbols=false` },
  { framework: 'SOC 2', controlId: 'CC6.6', testName: 'No security group allows SSH from 0.0.0.0/0', severity: 'HIGH', mitre: 'T1021.004',
    check: 'ec2.sg_open_ssh', resource: (r) => `sg-0${hex(r, 16)}`, problem: () => 'ingress tcp/22 from 0.0.0.0/0' },
  { framework: 'SOC 2', controlId: 'CC7.2', testName: 'GuardDuty findings routed to on-call', severity: 'MEDIUM', mitre: 'T1562',
    check: 'guardduty.alert_routing', resource: (r) => `detector/${hex(r, 32)}`, problem: () => 'no EventBridge rule forwards findings with severity >= 7' },
  { framework: 'SOC 2', controlId: 'CC8.1', testName: 'Branch protection required on production repositories', severity: 'LOW', mitre: null,
    check: 'scm.branch_protection', resource: (r) => `repo/acme/${r.pick(['payments-api', 'web-frontend', 'infra-terraform', 'billing-worker', 'auth-service'])}`, problem: () => 'default branch allows force-push and merges without review' },
  { framework: 'PCI DSS', controlId: '8.3.6', testName: 'Passwords for CDE accounts are at least 12 characters', severity: 'HIGH', mitre: 'T1110.001',
    check: 'cde.password_length', resource: (r) => `db-user/${r.pick(['app_rw', 'reporting', 'etl_loader', 'svc_batch'])}`, problem: (r) => `password length ${r.int(6, 10)}` },
  { framework: 'PCI DSS', controlId: '10.2.1', testName: 'Audit logs enabled for cardholder data environment databases', severity: 'HIGH', mitre: 'T1562',
    check: 'rds.audit_logging', resource: (r) => `rds/cde-${r.pick(['orders', 'cards', 'settlement'])}-${r.int(1, 3)}`, problem: () => 'pgaudit not enabled, log_connections=off' },
  { framework: 'PCI DSS', controlId: '3.5.1', testName: 'Stored PAN rendered unreadable', severity: 'CRITICAL', mitre: 'T1213',
    check: 'dlp.pan_at_rest', resource: (r) => `s3://acme-cde-exports-${r.int(100, 999)}/settlement/${r.int(2024, 2026)}-${String(r.int(1, 12)).padStart(2, '0')}.csv`, problem: (r) => `${r.int(12, 4800)} unmasked PANs detected (Luhn-valid, 16 digits)` },
  { framework: 'PCI DSS', controlId: '11.3.1', testName: 'Internal vulnerability scans run quarterly', severity: 'MEDIUM', mitre: null,
    check: 'scan.internal_quarterly', resource: (r) => `scan-profile/cde-${r.pick(['internal', 'segment-a', 'segment-b'])}`, problem: (r) => `last completed scan ${r.int(95, 200)} days ago` },
  { framework: 'CIS AWS Foundations', controlId: '1.4', testName: 'No access key exists for the root user', severity: 'CRITICAL', mitre: 'T1078.004',
    check: 'iam.root_access_keys', resource: () => 'root', problem: (r) => `active access key AKIA****${hex(r, 4).toUpperCase()} (last used ${r.int(1, 40)} days ago)` },
  { framework: 'CIS AWS Foundations', controlId: '2.1.1', testName: 'S3 buckets deny HTTP requests', severity: 'LOW', mitre: 'T1040',
    check: 's3.secure_transport', resource: (r) => `s3://acme-${r.pick(['logs', 'assets', 'backups', 'exports'])}-${r.int(100, 999)}`, problem: () => 'bucket policy lacks aws:SecureTransport=false deny' },
  { framework: 'CIS AWS Foundations', controlId: '3.1', testName: 'CloudTrail enabled in all regions', severity: 'MEDIUM', mitre: 'T1562',
    check: 'cloudtrail.all_regions', resource: (r) => `trail/${r.pick(['org-trail', 'security-trail', 'default'])}`, problem: () => 'IsMultiRegionTrail=false' },
  { framework: 'CIS AWS Foundations', controlId: '5.2', testName: 'No network ACL allows ingress from 0.0.0.0/0 to remote administration ports', severity: 'HIGH', mitre: 'T1133',
    check: 'vpc.nacl_admin_ports', resource: (r) => `acl-0${hex(r, 16)}`, problem: () => 'rule 100 allows 0.0.0.0/0 on 3389' },
];

function hex(rng, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(rng() * 16)];
  return s;
}

function fill(text, vars) {
  return text.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

function shiftSeverity(rng, base) {
  const i = SEVERITIES.indexOf(base);
  const r = rng();
  if (r < 0.15 && i > 0) return SEVERITIES[i - 1];
  if (r > 0.8 && i < SEVERITIES.length - 1) return SEVERITIES[i + 1];
  return base;
}

function cloudAccount(rng, provider) {
  const p = provider ?? rng.weighted([['aws', 6], ['gcp', 2], ['azure', 2], [null, 2]]);
  if (p === 'aws') return `aws:${String(rng.int(100000, 999999))}${String(rng.int(100000, 999999))}`;
  if (p === 'gcp') return `gcp:acme-${rng.pick(['prod', 'staging', 'data', 'shared'])}-${rng.int(1000, 9999)}`;
  if (p === 'azure') return `azure:${hex(rng, 8)}-${hex(rng, 4)}-${hex(rng, 4)}-${hex(rng, 4)}-${hex(rng, 12)}`;
  return null;
}

function publicIp(rng) {
  const prefix = rng.pick(['203.0.113', '198.51.100', '192.0.2', `52.${rng.int(0, 95)}.${rng.int(0, 255)}`.split('.').slice(0, 3).join('.'), `34.${rng.int(64, 127)}.${rng.int(0, 255)}`]);
  return `${prefix}.${rng.int(1, 254)}`;
}

function hostname(rng) {
  const sub = rng.pick(SUBDOMAINS);
  const n = rng.chance(0.4) ? `-${String(rng.int(1, 12)).padStart(2, '0')}` : '';
  const region = rng.chance(0.3) ? `.${rng.pick(REGIONS)}` : '';
  return `${sub}${n}${region}.${rng.pick(DOMAINS)}`;
}

function isoDate(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Realistic multi-line failure logs of one run of a compliance test started at `startMs`. */
export function failureLogs(test, rng, startMs) {
  let t = startMs;
  const ts = () => new Date((t += rng.int(40, 3000))).toISOString().replace(/\.\d+Z$/, 'Z');
  const checked = rng.int(3, 40);
  const failing = Math.max(1, Math.min(checked, rng.int(1, 5)));
  const lines = [
    `[${ts()}] INFO  cataam-runner ${test.runner ?? '4.12.1'} starting test ${test.testId}`,
    `[${ts()}] INFO  check ${test.check} (${test.framework} ${test.controlId}) in ${test.account ?? 'default scope'}`,
    `[${ts()}] INFO  evaluating ${checked} resource(s)`,
  ];
  for (let i = 0; i < failing; i++) {
    lines.push(`[${ts()}] FAIL  ${test.resourceOf(rng)}: ${test.problemOf(rng)}`);
  }
  lines.push(`[${ts()}] INFO  ${checked - failing} resource(s) compliant`);
  lines.push(`[${ts()}] ERROR result=FAIL failing=${failing}/${checked} control=${test.framework} ${test.controlId}`);
  return lines.join('\n');
}

/** Logs of a passing run started at `startMs`. */
export function passLogs(test, startMs) {
  const t = new Date(startMs).toISOString().replace(/\.\d+Z$/, 'Z');
  return [
    `[${t}] INFO  cataam-runner 4.12.1 starting test ${test.testId}`,
    `[${t}] INFO  check ${test.check} (${test.framework} ${test.controlId})`,
    `[${t}] PASS  all evaluated resources compliant`,
    `[${t}] INFO  result=PASS control=${test.framework} ${test.controlId}`,
  ].join('\n');
}

/** Compliance test definition (check name, resource/problem generators) for a framework/control. */
export function complianceDefinition(framework, controlId) {
  const def = COMPLIANCE.find((c) => c.framework === framework && c.controlId === controlId);
  if (!def) return null;
  return { check: def.check, resourceOf: def.resource, problemOf: def.problem };
}

/**
 * Generates one finding. `rng` drives every choice; `createdMs`/`updatedMs` are the timestamps.
 * `opts.kind`, `opts.severity`, `opts.status` force a value.
 */
export function generateFinding(rng, createdMs, updatedMs, opts = {}) {
  const kind = opts.kind ?? (rng.chance(1 / 8) ? 'COMPLIANCE' : 'IASM');
  const id = `fnd_${ulid(createdMs, rng)}`;
  const status = opts.status ?? rng.weighted([['OPEN', 70], ['ACKNOWLEDGED', 12], ['RESOLVED', 14], ['FALSE_POSITIVE', 4]]);
  let finding;
  if (kind === 'IASM') {
    const tpl = rng.pick(IASM);
    const severity = opts.severity ?? shiftSeverity(rng, tpl.severity);
    const account = cloudAccount(rng, tpl.cloud);
    const host = hostname(rng);
    const ip = publicIp(rng);
    const vars = {
      host, ip, port: tpl.port, account: account ?? 'the production account', nla: rng.chance(0.5) ? 'disabled' : 'enabled',
      scans: rng.int(2, 14), attempts: rng.int(40, 2400), days: rng.int(1, 120),
      issuer: rng.pick(["Let's Encrypt R3", 'DigiCert TLS RSA SHA256 2020 CA1', 'Sectigo RSA Domain Validation CA']),
      bucket: `acme-${rng.pick(['exports', 'backups', 'marketing-assets', 'data-lake', 'tmp'])}-${rng.int(100, 999)}`,
      objects: rng.int(120, 250000), esver: rng.pick(['6.8.23', '7.10.2', '7.17.9']), indices: rng.int(4, 180),
      dbs: rng.int(2, 30), cluster: `${rng.pick(['prod', 'staging', 'data'])}-${rng.pick(REGIONS)}`,
      k8sver: rng.pick(['v1.24.17', 'v1.25.16', 'v1.27.8']), dangling: `${rng.pick(['acme-promo', 'acme-old-site', 'acme-docs'])}.azurewebsites.net`,
      jenkinsver: rng.pick(['2.319.3', '2.346.1', '2.401.2']), domain: rng.pick(DOMAINS), records: rng.int(30, 900),
      redisver: rng.pick(['5.0.7', '6.0.16', '6.2.6']), containers: rng.int(1, 40), files: rng.int(3, 400),
      nginxver: rng.pick(['1.18.0', '1.20.1', '1.22.1']), phpver: rng.pick(['7.4.33', '8.0.30', '8.1.2']),
    };
    finding = {
      id, kind, status, severity,
      title: tpl.title,
      description: fill(tpl.description, vars),
      remediation: fill(tpl.remediation, vars),
      complianceControls: tpl.controls.slice(0, rng.int(1, tpl.controls.length)),
      mitre: { techniqueId: tpl.mitre, name: MITRE_TECHNIQUES[tpl.mitre] },
      asset: {
        hostname: tpl.title.startsWith('Publicly readable S3') ? `${vars.bucket}.s3.amazonaws.com` : host,
        ip, port: tpl.port, service: tpl.service, cloudAccount: account,
      },
      compliance: null,
    };
  } else {
    const def = rng.pick(COMPLIANCE);
    const severity = opts.severity ?? shiftSeverity(rng, def.severity);
    const account = cloudAccount(rng, 'aws');
    const testId = `ct_${ulid(createdMs, rng)}`;
    const test = { testId, framework: def.framework, controlId: def.controlId, check: def.check, account, resourceOf: def.resource, problemOf: def.problem };
    const result = status === 'RESOLVED' ? 'PASS' : 'FAIL';
    const logs = result === 'FAIL' ? failureLogs(test, rng, updatedMs - 60_000) : passLogs(test, updatedMs - 60_000);
    finding = {
      id, kind, status, severity,
      title: `Compliance test failing: ${def.testName}`,
      description: `The automated compliance test "${def.testName}" (${def.framework} ${def.controlId}) failed in ${account}. The control is not operating effectively; auditors will treat it as an exception until the test passes again.`,
      remediation: `Fix every resource listed as FAIL in the test logs, then mark the Jira issue Done: the integration re-runs the test and closes the finding only when it passes.`,
      complianceControls: [`${def.framework} ${def.controlId}`],
      mitre: def.mitre ? { techniqueId: def.mitre, name: MITRE_TECHNIQUES[def.mitre] } : null,
      asset: { hostname: null, ip: null, port: null, service: null, cloudAccount: account },
      compliance: { testId, testName: def.testName, framework: def.framework, controlId: def.controlId, result, logs },
    };
  }
  const dueDate = rng.chance(0.35) ? isoDate(createdMs + SLA_DAYS[finding.severity] * 86_400_000) : null;
  return {
    ...finding,
    dueDate,
    assignedTo: null,
    createdAt: new Date(createdMs).toISOString(),
    updatedAt: new Date(updatedMs).toISOString(),
  };
}

/**
 * `count` findings from `seed`, created over the 90 days before `epochMs`, with distinct
 * `updatedAt` values (all ≤ `epochMs`).
 */
export function generateFindings(seed, count, epochMs) {
  const rng = makeRng(`findings:${seed}`);
  const span = 90 * 86_400_000;
  const created = [];
  for (let i = 0; i < count; i++) created.push(epochMs - span + Math.floor(rng() * (span - 86_400_000)));
  created.sort((a, b) => a - b);
  const used = new Set();
  return created.map((c) => {
    let u = Math.min(epochMs, c + (rng.chance(0.5) ? 0 : rng.int(60_000, 5 * 86_400_000)));
    while (used.has(u)) u -= 1;
    used.add(u);
    return generateFinding(rng, c, u);
  });
}

/** The test definition attached to a compliance finding (used for new runs' logs). */
export function testOf(finding) {
  const c = finding.compliance;
  const def = complianceDefinition(c.framework, c.controlId) ?? {
    check: 'custom.check', resourceOf: () => 'resource', problemOf: () => 'non-compliant',
  };
  return { testId: c.testId, framework: c.framework, controlId: c.controlId, account: finding.asset?.cloudAccount ?? null, ...def };
}
