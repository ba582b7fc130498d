"""The outbound-address guard (connectors/netguard.py): which addresses Flowdeck may call, and
that a refused one is refused before any connection, on the address that was checked."""

import ipaddress
import socket
import ssl
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured

from connectors.netguard import AddressRefused, classify, guarded_client, parse_allow, refusal
from flowdeck.env import env_networks
from tests.http_server import ConnectSpy, LocalServer, Reply

LOCAL = ["127.0.0.1/32"]


@pytest.fixture
def server():
    with LocalServer() as running:
        yield running


# --- Address classes -----------------------------------------------------------------------------

CLASSES = [
    # IPv4
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "shared"),
    ("100.127.255.254", "shared"),
    ("169.254.169.254", "link-local"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("0.0.0.0", "unspecified"),  # noqa: S104
    ("0.1.2.3", "unspecified"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.0.8", "reserved"),
    ("192.0.2.1", "reserved"),
    ("198.18.0.1", "reserved"),
    ("8.8.8.8", None),
    ("1.1.1.1", None),
    ("172.32.0.1", None),
    ("100.128.0.1", None),
    # IPv6
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("fd12:3456:789a::1", "private"),
    ("fec0::1", "private"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "reserved"),
    ("2001::1", "reserved"),
    ("::127.0.0.1", "reserved"),
    ("64:ff9b:1::1", "private"),
    ("2606:4700:4700::1111", None),
    ("2001:4860:4860::8888", None),
    # IPv6 carrying an IPv4 address: judged by the IPv4 address
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:100.64.0.1", "shared"),
    ("::ffff:8.8.8.8", None),
    ("64:ff9b::7f00:1", "loopback"),
    ("64:ff9b::a9fe:a9fe", "link-local"),
    ("64:ff9b::808:808", None),
    ("2002:7f00:1::", "loopback"),
    ("2002:a00:1::", "private"),
    ("2002:808:808::", None),
]


@pytest.mark.parametrize(("address", "expected"), CLASSES, ids=[a for a, _ in CLASSES])
def test_each_address_falls_in_its_class(address, expected):
    assert classify(ipaddress.ip_address(address)) == expected


ALLOWED = [
    ("10.1.2.3", ["10.0.0.0/8"], None),
    ("10.1.2.3", ["10.1.2.3/32"], None),
    ("10.1.2.4", ["10.1.2.3/32"], "private"),
    ("192.168.0.1", ["10.0.0.0/8"], "private"),
    ("127.0.0.1", ["127.0.0.1"], None),
    ("::ffff:127.0.0.1", ["127.0.0.1/32"], None),
    ("::1", ["127.0.0.1/32"], "loopback"),
    ("::1", ["::1/128"], None),
    ("fd00::5", ["fd00::/8"], None),
    ("169.254.169.254", [], "link-local"),
]


@pytest.mark.parametrize(("address", "allow", "expected"), ALLOWED)
def test_an_allowed_network_lets_its_addresses_through_and_no_others(address, allow, expected):
    assert refusal(ipaddress.ip_address(address), parse_allow(allow)) == expected


PORTS = [
    # (address, port, allow, expected)
    ("127.0.0.1", 9000, ["127.0.0.1:9000"], None),
    ("127.0.0.1", 9001, ["127.0.0.1:9000"], "loopback"),
    (
        "127.0.0.1",
        None,
        ["127.0.0.1:9000"],
        "loopback",
    ),  # port not known: a port entry is not enough
    ("10.1.2.3", 443, ["10.0.0.0/8:443"], None),
    ("10.1.2.3", 80, ["10.0.0.0/8:443"], "private"),
    ("::1", 9000, ["[::1]:9000"], None),
    ("::1", 9000, ["[::1/128]:9001"], "loopback"),
    ("::ffff:127.0.0.1", 9000, ["127.0.0.1:9000"], None),
    ("127.0.0.1", 5432, ["127.0.0.1:9000", "10.0.0.0/8"], "loopback"),
    ("127.0.0.1", 5432, ["127.0.0.1:9000", "127.0.0.1/32"], None),
]


@pytest.mark.parametrize(("address", "port", "allow", "expected"), PORTS)
def test_an_allow_entry_with_a_port_opens_that_port_only(address, port, allow, expected):
    assert refusal(ipaddress.ip_address(address), parse_allow(allow), port) == expected


@pytest.mark.parametrize(
    "entry", ["127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:http", "[::1]", "[::1]9000", "lan:80"]
)
def test_a_junk_port_entry_stops_the_process_naming_the_variable(entry):
    with pytest.raises(ImproperlyConfigured, match="FLOWDECK_HTTP_ALLOW_NETWORKS"):
        env_networks(
            "FLOWDECK_HTTP_ALLOW_NETWORKS", environ={"FLOWDECK_HTTP_ALLOW_NETWORKS": entry}
        )


def test_a_port_entry_lets_the_client_call_that_port_and_no_other(server):
    other = socket.socket()
    other.bind(("127.0.0.1", 0))
    other.listen()
    try:
        other_port = other.getsockname()[1]
        with guarded_client(allow=[f"127.0.0.1:{server.port}"]) as client:
            assert client.get(server.url("/")).status_code == 200
            with pytest.raises(AddressRefused):
                client.get(f"http://127.0.0.1:{other_port}/")
        other.setblocking(False)
        with pytest.raises(BlockingIOError):  # nothing connected to the other port
            other.accept()
    finally:
        other.close()
    assert server.connections == 1


def test_a_junk_allow_list_stops_the_process_naming_the_variable():
    with pytest.raises(ImproperlyConfigured, match="FLOWDECK_HTTP_ALLOW_NETWORKS"):
        env_networks(
            "FLOWDECK_HTTP_ALLOW_NETWORKS", environ={"FLOWDECK_HTTP_ALLOW_NETWORKS": "lan"}
        )


# --- The client ----------------------------------------------------------------------------------


def test_an_allowed_address_is_called(server):
    server.reply("/hello", Reply(200, {"hi": "there"}))

    with guarded_client(allow=LOCAL) as client:
        response = client.get(server.url("/hello"))

    assert response.json() == {"hi": "there"}
    assert server.connections == 1


def test_the_allow_list_defaults_to_the_setting(server, settings):
    settings.FLOWDECK_HTTP_ALLOW_NETWORKS = LOCAL

    with guarded_client() as client:
        assert client.get(server.url("/")).status_code == 200

    settings.FLOWDECK_HTTP_ALLOW_NETWORKS = []
    with guarded_client() as client, pytest.raises(AddressRefused):
        client.get(server.url("/"))


def test_loopback_is_refused_by_default_before_any_connection(server, settings):
    settings.FLOWDECK_HTTP_ALLOW_NETWORKS = []

    with guarded_client() as client, pytest.raises(AddressRefused) as refused:
        client.get(server.url("/"))

    assert str(refused.value).startswith("127.0.0.1 is a loopback address")
    assert refused.value.address_class == "loopback"
    assert server.connections == 0
    assert server.requests == []


def test_a_name_resolving_to_loopback_is_refused_without_telling_the_address(server):
    with guarded_client(allow=[]) as client, pytest.raises(AddressRefused) as refused:
        client.get(server.url("/", host="localhost"))

    assert str(refused.value).startswith("localhost resolves to a loopback address")
    assert "127.0.0.1" not in str(refused.value)
    assert server.connections == 0


@pytest.mark.parametrize(
    ("url", "address_class"),
    [
        ("http://10.0.0.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]:8080/", "loopback"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://100.64.1.1/", "shared"),
        ("http://0.0.0.0:8000/", "unspecified"),
        ("https://224.0.0.1/", "multicast"),
    ],
)
def test_refused_addresses_are_never_connected_to(monkeypatch, url, address_class):
    spy = ConnectSpy(monkeypatch)

    with guarded_client(allow=LOCAL) as client, pytest.raises(AddressRefused) as refused:
        client.get(url)

    assert refused.value.address_class == address_class
    assert spy.addresses == []


def test_a_redirect_to_a_refused_address_is_refused(server):
    with LocalServer("127.0.0.2") as inside:
        server.reply("/go", Reply(302, headers={"Location": inside.url("/secret")}))

        refused = pytest.raises(AddressRefused, match="127.0.0.2 is a loopback address")
        with guarded_client(allow=LOCAL, follow_redirects=True) as client, refused:
            client.get(server.url("/go"))

        assert [r.path for r in server.requests] == ["/go"]
        assert inside.connections == 0


def test_the_connection_goes_to_the_address_that_was_checked(server, monkeypatch):
    # given a name whose DNS answer turns internal right after the first look-up (rebinding)
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1", "10.0.0.1", "10.0.0.1"])
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    spy = ConnectSpy(monkeypatch)

    # when it is called, the guard resolves once and connects to what it checked
    with guarded_client(allow=LOCAL) as client:
        response = client.get(server.url("/", host="rebind.test"))

    assert response.status_code == 200
    assert lookups == ["rebind.test"]
    assert spy.addresses == ["127.0.0.1"]
    assert server.requests[0].headers["host"] == f"rebind.test:{server.port}"

    # and the next connection is checked again, against the new answer
    with guarded_client(allow=LOCAL) as client, pytest.raises(AddressRefused):
        client.get(server.url("/", host="rebind.test"))
    assert spy.addresses == ["127.0.0.1"]


def self_signed(tmp_path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for ``name`` only (no IP in it), and a client
    context trusting just that certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


def test_tls_checks_the_certificate_against_the_host_name_not_the_address(tmp_path, monkeypatch):
    # given an https service whose certificate names secure.test and no address
    server_tls, client_tls = self_signed(tmp_path, "secure.test")
    names = []
    server_tls.sni_callback = lambda sock, name, ctx: names.append(name)
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host == "secure.test":
            host = "127.0.0.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with LocalServer(tls=server_tls) as server:
        server.reply("/", Reply(200, {"tls": True}))

        # when it is called by name through the guard, which connects to 127.0.0.1
        with guarded_client(allow=LOCAL, verify=client_tls) as client:
            response = client.get(server.url("/", host="secure.test"))

        # then SNI, the certificate check and Host all used the name
        assert response.json() == {"tls": True}
        assert names == ["secure.test"]
        assert server.requests[0].headers["host"] == f"secure.test:{server.port}"

        # (by its address, the same certificate does not verify: the name is what counted)
        unverified = pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED")
        with guarded_client(allow=LOCAL, verify=client_tls) as client, unverified:
            client.get(server.url("/"))


def test_of_several_addresses_only_the_permitted_ones_are_tried(server, monkeypatch):
    real = socket.getaddrinfo

    def mixed(host, port, *args, **kwargs):
        if host != "mixed.test":
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", mixed)
    spy = ConnectSpy(monkeypatch)

    with guarded_client(allow=LOCAL) as client:
        assert client.get(server.url("/", host="mixed.test")).status_code == 200

    assert spy.addresses == ["127.0.0.1"]


def test_proxy_settings_in_the_environment_are_ignored(server, monkeypatch):
    with LocalServer() as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy.url("/"))
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)

        with guarded_client(allow=LOCAL) as client:
            assert client.get(server.url("/direct")).status_code == 200

        assert proxy.connections == 0
        assert [r.path for r in server.requests] == ["/direct"]


@pytest.mark.parametrize("bypass", ["transport", "proxy", "mounts", "trust_env"])
def test_options_that_would_bypass_the_guard_are_refused(bypass):
    values = {
        "transport": httpx.HTTPTransport(),
        "proxy": "http://127.0.0.1:1",
        "mounts": {},
        "trust_env": True,
    }
    with pytest.raises(TypeError, match=bypass):
        guarded_client(**{bypass: values[bypass]})


def test_an_unresolvable_name_is_a_connect_error_not_a_refusal():
    with guarded_client(allow=[]) as client, pytest.raises(httpx.ConnectError):
        client.get("http://no-such-host.invalid/")
