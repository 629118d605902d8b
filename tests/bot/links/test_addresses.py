"""The address deny list, block by block (IANA special-purpose registries), and links without credentials."""

from __future__ import annotations

import ipaddress

import pytest

from bot.links.fetch import (
    DENIED_NETWORKS,
    EMBEDDING_NETWORKS,
    clean_link,
    fetch_audio,
    is_internal,
)
from tests.support.bot_fixtures import wav_bytes


def edges(network) -> list:
    """First, second, middle and last address of a block."""
    size = network.num_addresses
    return sorted({network[0], network[min(1, size - 1)], network[size // 2], network[-1]})


@pytest.mark.parametrize(("network", "source"), DENIED_NETWORKS, ids=[str(net) for net, _ in DENIED_NETWORKS])
def test_every_denied_block_is_internal_edge_to_edge(network, source):
    assert source.startswith("RFC ")
    for address in edges(network):
        assert is_internal(address), address


@pytest.mark.parametrize(
    "address",
    [
        "192.0.0.192",  # cloud metadata (Oracle), inside 192.0.0.0/24
        "192.0.0.9",
        "192.0.0.10",
        "192.0.0.170",  # PCP / TURN anycast, NAT64 discovery
        "192.31.196.1",
        "192.52.193.1",
        "192.175.48.1",
        "192.88.99.1",
        "198.18.0.1",
        "198.19.255.254",
        "100.127.255.255",
        "0.1.2.3",
        "255.255.255.255",
        "239.255.255.250",
        # IPv6 outside global unicast, and IPv4 carried inside IPv6
        "::",
        "::1",
        "::127.0.0.1",
        "::8.8.8.8",
        "100::1",
        "4000::1",
        "5f00::1",
        "fec0::1",
        "ff02::1",
        "::ffff:192.0.0.192",
        "::ffff:169.254.169.254",
        "::ffff:127.0.0.1",
        "::ffff:0.0.0.0",
        "64:ff9b::c000:c0",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::808:808",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "2002:808:808::1",  # 6to4, even of a public IPv4 address
        "2001:db8::1",
        "3fff::1",
        "2620:4f:8000::1",
        "fd00::1",
        "fe80::1",
    ],
)
def test_special_purpose_addresses_are_internal(address):
    assert is_internal(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "192.0.1.1",
        "192.0.3.1",
        "100.128.0.1",
        "198.20.0.1",
        "223.255.255.254",
        "2606:4700:4700::1111",
        "2a00:1450:4001::1",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2001:200::1",
    ],
)
def test_public_addresses_are_not(address):
    assert not is_internal(ipaddress.ip_address(address))


def test_embedding_blocks_carry_their_sources():
    assert all(source.startswith("RFC ") for _, source in EMBEDDING_NETWORKS)


@pytest.mark.parametrize(
    ("link", "clean"),
    [
        ("https://user:hunter2@music.example/song.mp3", "https://music.example/song.mp3"),
        ("https://user@music.example:8443/a", "https://music.example:8443/a"),
        ("https://music.example/s.mp3?token=abc&t=30", "https://music.example/s.mp3?t=30"),
        (
            "https://cdn.example/a.mp3?X-Amz-Credential=x&X-Amz-Signature=y&X-Amz-Expires=60&id=7",
            "https://cdn.example/a.mp3?X-Amz-Expires=60&id=7",
        ),
        (
            "https://a.example/?api_key=1&apiKey=2&access_token=3&sig=4&auth=5&password=6&secret=7&session=8&v=9",
            "https://a.example/?v=9",
        ),
        ("https://a.example/watch?v=dQw4w9WgXcQ&list=PL1", "https://a.example/watch?v=dQw4w9WgXcQ&list=PL1"),
        ("https://a.example/cb#access_token=abc&state=1", "https://a.example/cb#state=1"),
        ("https://a.example/page#chorus", "https://a.example/page#chorus"),
        ("https://monkey.example/?monkey=1&keyboard=2", "https://monkey.example/?monkey=1&keyboard=2"),
        ("not a link", "not a link"),
    ],
)
def test_clean_link(link, clean):
    assert clean_link(link) == clean


def test_fetched_audio_url_has_no_credentials(audio_server, link_policy):
    url = audio_server.file("/song.wav", wav_bytes())
    with_secrets = url.replace("http://", "http://me:hunter2@") + "?token=abc123&t=5"

    fetched = fetch_audio(with_secrets, link_policy)

    assert fetched.url == url + "?t=5"
    assert "hunter2" not in fetched.url and "abc123" not in fetched.url
