"""The console's commands for listening together: /taste compare, /journey, /pool map, the week in
/pool stats, and a newcomer's first day (services over SQLite with the fake engine)."""

from __future__ import annotations

from pathlib import Path

import soundfile as sf

from tests.conftest import tone
from tests.support.bot_fixtures import console_run


def write_tones(folder: Path, count: int) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for number in range(count):
        path = folder / f"tone {number}.wav"
        sf.write(path, tone(200 + 45 * number, 1.0, 8000), 8000)
        paths.append(path)
    return paths


def answer(out: str, command: str) -> list[str]:
    """The lines a command printed, up to the next command."""
    return out.split(f"> {command}\n", 1)[1].split("\n> ", 1)[0].splitlines()


async def test_taste_compare_says_how_close_two_members_are_and_suggests_their_songs(make_services, tmp_path):
    services = await make_services(home=tmp_path)
    paths = write_tones(tmp_path / "songs", 8)
    script = [
        *(f"/classify {path}" for path in paths[:3]),
        "/user alice",
        *(f"/classify {path}" for path in paths[2:6]),
        "/like 4 5",
        "/user me",
        "/taste compare alice",
        "/taste compare me",
        "/taste compare nobody",
        "/taste compare",
        "/user newcomer",
        "/taste compare alice",
    ]
    out = await console_run(services, script)

    compare = answer(out, "/taste compare alice")
    assert compare[0].startswith("Compatibility with alice: ") and compare[0].split(": ")[1][0].isdigit()
    assert compare[1].startswith("You share: ") and compare[2].startswith("Where you differ: ")
    assert compare[3].startswith("   ") and " you " in compare[3] and " alice " in compare[3]
    suggested = compare[compare.index("Songs from alice you would probably like:") + 1 :]
    assert 1 <= len(suggested) <= 5 and all(" — alice " in line for line in suggested)
    assert not any(f"#{song} " in line for line in suggested for song in (1, 2, 3))  # mine already
    assert answer(out, "/taste compare me")[0].startswith("⚠ That's you")
    assert answer(out, "/taste compare nobody")[0].startswith("⚠ That member has no listening history")
    assert answer(out, "/taste compare")[0].startswith("⚠ Use `/taste` for yours")
    assert answer(out, "/user newcomer")[1:] == [] and "⚠ You have no listening history" in out.split("newcomer")[-1]


async def test_journey_prints_a_numbered_list_from_the_first_song_to_the_second(make_services, tmp_path):
    services = await make_services(home=tmp_path)
    paths = write_tones(tmp_path / "songs", 12)
    script = [
        *(f"/classify {path}" for path in paths),
        "/journey 1 12 6",
        "/journey #3 #3",
        "/journey 1 99",
        "/journey 1 2 1",
        "/journey 1",
        "/journey one two",
    ]
    out = await console_run(services, script)

    journey = answer(out, "/journey 1 12 6")
    assert journey[0].startswith("Journey of ") and "steps: largest " in journey[0]
    listed = [line for line in journey[1:] if not line.startswith("💡")]
    assert listed[0] == "1. #1 tone 0" and listed[-1] == f"{len(listed)}. #12 tone 11"
    assert 2 <= len(listed) <= 6 and [line.split(".")[0] for line in listed] == [
        str(n) for n in range(1, len(listed) + 1)
    ]
    assert len({line.split()[1] for line in listed}) == len(listed)  # no song twice
    assert answer(out, "/journey #3 #3")[0].startswith("⚠ A journey goes from one song to another")
    assert answer(out, "/journey 1 99")[0] == "⚠ Song #99 is not in this server's pool (it may have been removed)."
    assert answer(out, "/journey 1 2 1")[0].startswith("⚠ The number of songs in a journey must be")
    assert answer(out, "/journey 1")[0].startswith("⚠ Give two song ids")
    assert answer(out, "/journey one two")[0].startswith("⚠ Song ids are numbers")


async def test_a_journey_in_a_pool_of_two_goes_straight_there(make_services, tmp_path):
    services = await make_services(home=tmp_path)
    paths = write_tones(tmp_path / "songs", 2)
    out = await console_run(services, [*(f"/classify {path}" for path in paths), "/journey 2 1"])
    assert answer(out, "/journey 2 1")[1:] == [
        "1. #2 tone 1",
        "2. #1 tone 0",
        "💡 No song of this server's pool lies between these two by sound: the journey goes straight there.",
    ]


async def test_pool_map_writes_a_png_and_says_where(make_services, tmp_path):
    services = await make_services(home=tmp_path)
    out = await console_run(services, ["/pool map"])
    assert answer(out, "/pool map") == [
        "⚠ This server's song pool is empty, so there is no map yet. Share some music with /classify first."
    ]
    paths = write_tones(tmp_path / "songs", 1)
    out = await console_run(services, [f"/classify {paths[0]}", "/pool map", "/pool map jazz", "/pool map polka"])
    (line,) = answer(out, "/pool map")
    path = Path(line.removeprefix("Map: "))
    assert line.startswith("Map: ") and path.parent == tmp_path / "maps"
    assert path.read_bytes().startswith(b"\x89PNG")
    assert path.name == "pool-map.png"
    assert answer(out, "/pool map jazz") == [f"Map: {tmp_path / 'maps' / 'pool-map-jazz.png'}"]  # beside it
    assert answer(out, "/pool map polka")[0].startswith("⚠ I don't know the genre `polka`")


async def test_pool_stats_shows_this_week_beside_all_time(make_services, tmp_path):
    services = await make_services(home=tmp_path)
    paths = write_tones(tmp_path / "songs", 3)
    out = await console_run(
        services, ["/pool stats", *(f"/classify {path}" for path in paths), "/user alice", "/like 1", "/pool stats"]
    )
    assert "This week: Nothing shared or played in the last 7 days." in answer(out, "/pool stats")
    stats = out.rsplit("> /pool stats\n", 1)[1].splitlines()
    assert "All time:" in stats
    assert "This week: 4 event(s), 4 of them shares, listens and likes" in stats
    assert any(line.startswith("Rising this week: ") for line in stats)
    assert "Most active this week: me (3), alice (1)" in stats


async def test_a_first_day_offers_the_servers_mix_and_songs_to_start_a_taste(make_services, tmp_path):
    services = await make_services(home=tmp_path)
    paths = write_tones(tmp_path / "songs", 9)
    script = [*(f"/classify {path}" for path in paths), "/user newcomer", "/playlist 3", "/radio 2"]
    out = await console_run(services, script)

    playlist = answer(out, "/playlist 3")
    assert playlist[0].startswith("The server's mix for newcomer (variety 0.25)")
    assert any("I don't know your taste yet, so this is the server's mix" in line for line in playlist)
    start = playlist.index(
        "Start your taste: like any of these songs, picked to cover the sound of this server's pool."
    )
    offered = playlist[start + 1 : -1]
    assert len(offered) == 5 and all(line.startswith("   #") for line in offered)
    ids = [line.split()[0].lstrip("#") for line in offered]
    assert playlist[-1] == f"   /like {' '.join(ids)}"
    radio = answer(out, "/radio 2")
    assert radio[0].startswith("The radio would play the server's mix for newcomer")
    assert radio[-1] == playlist[-1]

    liked = await console_run(services, ["/user newcomer", playlist[-1].strip(), "/playlist 3"])
    assert answer(liked, "/playlist 3")[0].startswith("Playlist for newcomer")
