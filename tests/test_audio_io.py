"""Audio file reading, streaming and atomic writing, and the one-line errors for bad files."""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import subprocess

import numpy as np
import pytest
import soundfile as sf
from conftest import mp3_bytes, tone

from sepzoo.audio_io import (
    AudioWriter,
    audio_info,
    check_audio_array,
    iter_blocks,
    read_audio,
    remove_stale_temporaries,
    validate_audio,
    write_audio,
)
from sepzoo.errors import AudioFileError, ConfigError, OutputError

BAD_FILES = {
    "missing": "no such file",
    "folder": "is a folder",
    "empty": "file is empty (0 bytes)",
    "truncated": "truncated WAV",
    "not_audio": "not a readable audio file",
    "zero_frames": "contains no audio (0 frames)",
    "six_channels": "ffmpeg -i IN -ac 2 OUT",
    "rate_2k": "sample rate 2000 Hz is outside 4000..384000 Hz",
    "rate_500k": "sample rate 500000 Hz is outside",
}
NON_FINITE = ("nan", "inf")


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_header_is_refused_by_every_reader(audio_files, name):
    path = audio_files[name]
    for reader in (audio_info, read_audio, validate_audio, lambda p: next(iter_blocks(p, 256))):
        with pytest.raises(AudioFileError) as caught:
            reader(path)
        message = str(caught.value)
        assert "\n" not in message
        assert message.startswith(str(path))
        assert BAD_FILES[name] in message


@pytest.mark.parametrize("name", NON_FINITE)
def test_non_finite_samples_are_found_by_decoding_readers(audio_files, name):
    path = audio_files[name]
    assert audio_info(path).frames == 1600  # the header is fine; only the samples are bad
    for reader in (read_audio, validate_audio, lambda p: list(iter_blocks(p, 256))):
        with pytest.raises(AudioFileError, match=r"NaN or infinite samples \(first at frame 1000\)"):
            reader(path)


def test_truncated_float_wav_and_truncated_flac(tmp_path, write_wav):
    whole = write_wav("whole.wav", tone(8000, 0.3, channels=2), 8000).read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole[:-1000])
    with pytest.raises(AudioFileError, match="header promises 2400 frames but only 2275 are present"):
        audio_info(cut)
    flac = tmp_path / "song.flac"
    sf.write(str(flac), tone(8000, 1.0).T, 8000, format="FLAC")
    cut_flac = tmp_path / "cut.flac"
    cut_flac.write_bytes(flac.read_bytes()[: flac.stat().st_size // 2])
    with pytest.raises(AudioFileError, match="cut.flac: .*truncated"):
        validate_audio(cut_flac)


def test_wav_of_unknown_length_from_a_streaming_encoder_is_accepted(tmp_path, write_wav):
    data = bytearray(write_wav("stream.wav", tone(8000, 0.1), 8000, "PCM_16").read_bytes())
    size_at = data.index(b"data") + 4
    data[size_at:size_at + 4] = b"\xff\xff\xff\xff"
    (tmp_path / "stream.wav").write_bytes(bytes(data))
    audio, _ = read_audio(tmp_path / "stream.wav")
    assert audio.shape == (1, 800)


@pytest.mark.parametrize("name, rate, shape", [
    ("mono_8k", 8000, (1, 4000)),
    ("stereo_44k", 44100, (2, 13230)),
    ("mono_192k", 192000, (1, 19200)),
    ("flac", 22050, (2, 4410)),
    ("one_sample", 16000, (1, 1)),
])
def test_valid_files_read_as_float32_channels_first(audio_files, name, rate, shape):
    audio, sample_rate = read_audio(audio_files[name])
    assert (sample_rate, audio.shape, audio.dtype) == (rate, shape, np.float32)
    assert audio.flags.c_contiguous
    info = validate_audio(audio_files[name])
    assert (info.sample_rate, info.channels, info.frames) == (rate, shape[0], shape[1])
    assert info.duration == pytest.approx(shape[1] / rate)


def test_blocks_concatenate_to_the_whole_file(audio_files):
    whole, _ = read_audio(audio_files["stereo_44k"])
    blocks = list(iter_blocks(audio_files["stereo_44k"], 1000))
    assert [block.shape[1] for block in blocks] == [1000] * 13 + [230]
    np.testing.assert_array_equal(np.concatenate(blocks, axis=1), whole)
    with pytest.raises(ConfigError):
        next(iter_blocks(audio_files["stereo_44k"], 0))


@pytest.mark.parametrize("format, subtype, tolerance", [
    ("wav", None, 0.0), ("flac", None, 2.0**-23), ("wav", "PCM_16", 2.0**-15),
])
def test_write_read_round_trip(tmp_path, format, subtype, tolerance):
    audio = tone(16000, 0.25, channels=2)
    path = write_audio(tmp_path / f"out.{format}", audio, 16000, format=format, subtype=subtype)
    back, rate = read_audio(path)
    assert rate == 16000
    np.testing.assert_allclose(back, audio, atol=tolerance)
    assert [p.name for p in tmp_path.iterdir()] == [f"out.{format}"]


def test_float_wav_keeps_samples_beyond_full_scale(tmp_path):
    loud = np.array([[1.5, -2.0, 0.25]], np.float32)
    back, _ = read_audio(write_audio(tmp_path / "loud.wav", loud, 8000))
    np.testing.assert_array_equal(back, loud)


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    old = write_audio(tmp_path / "keep.wav", tone(8000, 0.1), 8000)
    before = old.read_bytes()
    with pytest.raises(RuntimeError, match="disk full"):
        with AudioWriter(old, 8000, 1) as writer:
            writer.write(np.zeros((1, 100), np.float32))
            raise RuntimeError("disk full")
    with pytest.raises(AudioFileError, match="NaN or infinite"):
        write_audio(old, np.full((1, 10), np.nan, np.float32), 8000)
    assert old.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.wav"]


def test_write_errors(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(OutputError, match="file: cannot create folder"):
        write_audio(tmp_path / "file" / "x.wav", tone(8000, 0.1), 8000)
    with pytest.raises(OutputError, match="file: cannot write there"):
        AudioWriter(tmp_path / "file" / "x.wav", 8000, 1)
    with pytest.raises(ConfigError, match="use one of wav, flac"):
        write_audio(tmp_path / "x.mp3", tone(8000, 0.1), 8000, format="mp3")
    with pytest.raises(ConfigError, match="subtype 'FLOAT'"):
        write_audio(tmp_path / "x.flac", tone(8000, 0.1), 8000, format="flac", subtype="float")
    with pytest.raises(AudioFileError, match=r"shape \(800,\)"):
        write_audio(tmp_path / "x.wav", tone(8000, 0.1)[0], 8000)
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_write_creates_missing_folders(tmp_path):
    path = write_audio(tmp_path / "a" / "b" / "x.wav", tone(8000, 0.1), 8000)
    assert read_audio(path)[0].shape == (1, 800)


@pytest.mark.parametrize("audio, rate, message", [
    (np.zeros(10), 8000, r"shape \(10,\)"),
    (np.zeros((3, 10)), 8000, "3 channels"),
    (np.zeros((1, 0)), 8000, "no samples"),
    (np.zeros((1, 10)), 1000, "sample rate 1000 Hz"),
    (np.array([[0.0, np.inf]]), 8000, "NaN or infinite"),
])
def test_array_policy_matches_file_policy(audio, rate, message):
    with pytest.raises(AudioFileError, match=message):
        check_audio_array(audio, rate)


def lameenc_mp3(path, audio: np.ndarray, rate: int):
    """Write :func:`conftest.mp3_bytes` of ``audio`` to ``path``; return ``path``."""
    path.write_bytes(mp3_bytes(audio, rate))
    return path


def test_constant_bitrate_mp3_reads_to_its_real_end_with_the_right_pitch(tmp_path):
    rate, seconds = 44100, 3.0
    time = np.arange(int(rate * seconds)) / rate
    path = lameenc_mp3(tmp_path / "a440.mp3", (0.5 * np.sin(2 * np.pi * 440.0 * time))[None], rate)
    audio, sample_rate = read_audio(path)
    assert sf.info(str(path)).frames != audio.shape[1]  # the header's count is only an estimate
    # The real length: the input plus the encoder's delay and padding, under two MP3 frames (1152 samples each).
    assert sample_rate == rate and audio.shape[0] == 1
    assert 0 <= audio.shape[1] - time.size < 2 * 1152
    assert audio_info(path).frames == validate_audio(path).frames == audio.shape[1]
    assert sum(block.shape[1] for block in iter_blocks(path, 10000)) == audio.shape[1]
    spectrum = np.abs(np.fft.rfft(audio[0] * np.hanning(audio.shape[1])))
    assert np.fft.rfftfreq(audio.shape[1], 1 / rate)[np.argmax(spectrum)] == pytest.approx(440.0, abs=1.0)
    assert np.sqrt(np.mean(audio[0, rate // 2:-rate // 2] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)


def test_corrupt_mp3_is_one_error_and_the_decoder_prints_nothing(tmp_path, capfd):
    rate = 44100
    good = lameenc_mp3(tmp_path / "good.mp3", tone(rate, 2.0), rate).read_bytes()
    cut = len(good) // 3
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(good[:cut] + bytes(8000) + good[cut + 8000:])
    capfd.readouterr()
    for reader in (audio_info, read_audio, validate_audio):
        with pytest.raises(AudioFileError) as caught:
            reader(broken)
        message = str(caught.value)
        assert message.startswith(f"{broken}: decoding failed") and "Illegal Audio-MPEG-Header" in message
        assert "\n" not in message
    assert capfd.readouterr().err == ""  # mpg123's notes on fd 2 were captured into the message


def ffmpeg_encoded(path, audio: np.ndarray, rate: int, *codec_args: str):
    """``audio`` (channels, samples) written as WAV, then encoded by the ffmpeg command line to ``path``."""
    source = path.with_suffix(".source.wav")
    sf.write(str(source), audio.T, rate)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), *codec_args, str(path)], check=True)
    source.unlink()
    return path


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (scripts/setup_env.sh installs it)")
@pytest.mark.parametrize("name, codec_args", [("a440.m4a", ("-c:a", "aac", "-b:a", "128k")),
                                              ("a440.aac", ("-c:a", "aac", "-f", "adts")),
                                              ("a440.webm", ("-c:a", "libopus", "-b:a", "64k"))])
def test_aac_m4a_and_webm_decode_through_ffmpeg_to_their_end(tmp_path, name, codec_args):
    rate, seconds = 48000, 2.5
    time = np.arange(int(rate * seconds)) / rate
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 440.0 * time), 0.25 * np.sin(2 * np.pi * 440.0 * time)])
    path = ffmpeg_encoded(tmp_path / name, stereo, rate, *codec_args)
    with pytest.raises(sf.SoundFileError):
        sf.info(str(path))  # libsndfile cannot read it
    audio, sample_rate = read_audio(path)
    assert sample_rate == rate and audio.shape[0] == 2
    assert 0 <= audio.shape[1] - time.size < 3 * 1024  # the encoder's priming and padding only
    assert audio_info(path).frames == validate_audio(path).frames == audio.shape[1]
    assert sum(block.shape[1] for block in iter_blocks(path, 10000)) == audio.shape[1]
    middle = audio[:, rate // 2:-rate // 2]
    assert np.sqrt(np.mean(middle**2, axis=1)) == pytest.approx([0.5 / np.sqrt(2), 0.25 / np.sqrt(2)], rel=0.1)
    spectrum = np.abs(np.fft.rfft(audio[0] * np.hanning(audio.shape[1])))
    assert np.fft.rfftfreq(audio.shape[1], 1 / rate)[np.argmax(spectrum)] == pytest.approx(440.0, abs=1.0)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (scripts/setup_env.sh installs it)")
def test_an_ffmpeg_file_is_probed_once_until_it_changes(tmp_path, monkeypatch):
    import sepzoo.audio_io

    probes = []
    run = subprocess.run

    def counting(command, *args, **kwargs):
        probes.extend(command[:1] if command[0] == "ffprobe" else [])
        return run(command, *args, **kwargs)

    path = ffmpeg_encoded(tmp_path / "probe.m4a", tone(44100, 0.5), 44100, "-c:a", "aac")
    monkeypatch.setattr(sepzoo.audio_io.subprocess, "run", counting)
    audio_info(path)
    read_audio(path)
    assert sum(block.shape[1] for block in iter_blocks(path, 4096)) == audio_info(path).frames
    assert len(probes) == 1  # checking, reading and streaming the file share one probe
    ffmpeg_encoded(path, tone(22050, 0.5, channels=2), 22050, "-c:a", "aac")  # the file changes
    assert audio_info(path).channels == 2 and len(probes) == 2


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (scripts/setup_env.sh installs it)")
def test_damaged_m4a_is_one_error_line(tmp_path):
    good = ffmpeg_encoded(tmp_path / "good.m4a", tone(44100, 1.0), 44100, "-c:a", "aac").read_bytes()
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(good[: len(good) // 3])  # the moov box (at the end) is gone
    for reader in (audio_info, read_audio):
        with pytest.raises(AudioFileError) as caught:
            reader(cut)
        message = str(caught.value)
        assert message.startswith(f"{cut}: not a readable audio file (") and "\n" not in message


def test_flac_that_states_no_length_reads_to_its_end(tmp_path):
    audio = tone(8000, 0.7)
    flac = tmp_path / "streamed.flac"
    sf.write(str(flac), audio.T, 8000, format="FLAC", subtype="PCM_24")
    data = bytearray(flac.read_bytes())
    data[21] &= 0xF0  # STREAMINFO's 36-bit total sample count (bytes 21-25 of the file) set to 0: unknown
    data[22:26] = bytes(4)
    flac.write_bytes(bytes(data))
    back, _ = read_audio(flac)
    assert back.shape == audio.shape and audio_info(flac).frames == audio.shape[1]
    np.testing.assert_allclose(back, audio, atol=2.0**-22)


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_written_files_get_the_mode_the_umask_gives(tmp_path, umask):
    from sepzoo.audio_io import atomic_output

    previous = os.umask(umask)
    try:
        written = write_audio(tmp_path / "a.wav", tone(8000, 0.1), 8000)
        with atomic_output(tmp_path / "b.txt") as temporary:
            temporary.write_text("text")
        (tmp_path / "plain.txt").write_text("any file the user creates")
    finally:
        os.umask(previous)
    expected = 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == expected
    for path in (written, tmp_path / "b.txt"):
        assert stat.S_IMODE(path.stat().st_mode) == expected, oct(path.stat().st_mode)


def test_temporaries_of_killed_writers_are_removed_and_live_ones_kept(tmp_path):
    stale = tmp_path / ".drums.wav.sepzoo-0123abcd.part"
    legacy = tmp_path / ".bass.wav.k2j4_x9q.part"  # tempfile.mkstemp's name, from sepzoo before the locks
    live = tmp_path / ".keys.wav.sepzoo-89abcdef.part"
    other = tmp_path / ".notes.part"  # not a sepzoo temporary
    for path in (stale, legacy, live, other):
        path.write_bytes(b"half a file")
    with open(live, "rb") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)  # as the writing process holds it
        write_audio(tmp_path / "other.wav", tone(8000, 0.1), 8000)
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name, "other.wav"])
    assert remove_stale_temporaries(tmp_path) == [live]  # its writer is gone now
    assert remove_stale_temporaries(tmp_path / "missing") == []
