//! All four mock providers at once, behind one test CA, and the settings that point Herald at
//! them: what the end-to-end tests, `herald bench` and `herald up --with-mocks` all start.

use std::path::Path;

use herald_runtime::settings::ProviderSettings;

use crate::apns::MockApns;
use crate::fcm::MockFcm;
use crate::hms::MockHms;
use crate::mock::Recorder;
use crate::tls::TestCa;
use crate::webpush::MockPushService;

/// The ports the mocks listen on (0: any free port).
#[derive(Clone, Copy, Debug, Default)]
pub struct MockPorts {
    pub fcm: u16,
    pub hms: u16,
    pub apns: u16,
    pub push: u16,
}

/// Running mock APNs, FCM, HMS and Web Push service; they stop when dropped.
#[derive(Debug)]
pub struct Mocks {
    pub ca: TestCa,
    pub fcm: MockFcm,
    pub hms: MockHms,
    pub apns: MockApns,
    pub push: MockPushService,
    /// Holds the CA bundle Herald is told to trust.
    dir: tempfile::TempDir,
}

impl Mocks {
    /// Starts every mock on a free port.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_on(MockPorts::default(), false).await
    }

    /// Starts every mock on `ports`; `log_pushes` logs each push a mock accepts.
    pub async fn start_on(ports: MockPorts, log_pushes: bool) -> anyhow::Result<Self> {
        let ca = TestCa::new()?;
        Ok(Self {
            fcm: MockFcm::start_on(&ca, ports.fcm, log_pushes).await?,
            hms: MockHms::start_on(&ca, ports.hms, log_pushes).await?,
            apns: MockApns::start_on(&ca, ports.apns, log_pushes).await?,
            push: MockPushService::start_on(&ca, ports.push, log_pushes).await?,
            ca,
            dir: tempfile::tempdir()?,
        })
    }

    /// Each mock's memory, in the order FCM, HMS, APNs, Web Push.
    pub fn recorders(&self) -> [&Recorder; 4] {
        [&self.fcm, &self.hms, &self.apns, &self.push]
    }

    /// Points `providers` at the mocks. The mocks' CA is trusted besides any extra CA the
    /// settings already name: both go into one bundle file, which `providers` then names.
    pub fn apply(&self, providers: &mut ProviderSettings) -> anyhow::Result<()> {
        providers.apns_url = self.apns.base_url();
        providers.apns_sandbox_url = self.apns.base_url();
        providers.fcm_base_url = self.fcm.base_url();
        providers.hms_base_url = self.hms.base_url();
        providers.hms_token_url = self.hms.token_url();
        let mut bundle = match &providers.extra_ca_file {
            Some(file) => read_pem(file)?,
            None => String::new(),
        };
        bundle.push_str(&self.ca.cert_pem);
        let file = self.dir.path().join("ca-bundle.pem");
        std::fs::write(&file, bundle)?;
        providers.extra_ca_file = Some(file);
        Ok(())
    }
}

fn read_pem(file: &Path) -> anyhow::Result<String> {
    let mut pem =
        std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    if !pem.ends_with('\n') {
        pem.push('\n');
    }
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_mocks_ca_is_trusted_besides_an_operators_extra_ca() {
        let mocks = Mocks::start().await.unwrap();
        let operator = TestCa::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let extra = dir.path().join("corporate-proxy-ca.pem");
        std::fs::write(&extra, &operator.cert_pem).unwrap();
        let mut settings = herald_runtime::Settings::from_layers(None, |_| None).unwrap();
        settings.providers.extra_ca_file = Some(extra);
        mocks.apply(&mut settings.providers).unwrap();
        assert_eq!(settings.providers.fcm_base_url, mocks.fcm.base_url());
        let bundle =
            std::fs::read_to_string(settings.providers.extra_ca_file.as_ref().unwrap()).unwrap();
        assert!(
            bundle.contains(operator.cert_pem.trim()),
            "the operator's CA is kept"
        );
        assert!(
            bundle.contains(mocks.ca.cert_pem.trim()),
            "the mocks' CA is added"
        );
        // Both reach the HTTP client, which trusts every certificate of the bundle.
        let endpoints = settings.providers.endpoints().unwrap();
        let pem = endpoints.http.extra_ca_pem.unwrap();
        assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 2);
    }
}
