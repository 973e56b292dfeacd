// The clip's own video stream is the first that is not an attached picture: an mp4's cover art
// is a one-frame video stream, and taking the demuxer's first video stream could fuse that.
import { describe, expect, it } from 'vitest';
import { AV_DISPOSITION_ATTACHED_PIC, AV_DISPOSITION_DEFAULT, AVMEDIA_TYPE_AUDIO, AVMEDIA_TYPE_VIDEO } from 'node-av/constants';
import { mainVideo } from '../src/vision/video/media.ts';

const stream = (id: string, type: number, disposition = 0) => ({ id, codecpar: { codecType: type }, disposition });

describe('the clip\'s own video stream', () => {
  it('skips cover art before the video; takes the first plain video stream', () => {
    const cover = stream('cover', AVMEDIA_TYPE_VIDEO, AV_DISPOSITION_ATTACHED_PIC), audio = stream('audio', AVMEDIA_TYPE_AUDIO);
    const video = stream('video', AVMEDIA_TYPE_VIDEO, AV_DISPOSITION_DEFAULT), second = stream('second', AVMEDIA_TYPE_VIDEO);
    expect(mainVideo([cover, audio, video, second])?.id).toBe('video');
    expect(mainVideo([video, cover])?.id).toBe('video');
    expect(mainVideo([audio, second])?.id).toBe('second');
  });

  it('a file with cover art and audio only has no video', () => {
    expect(mainVideo([stream('audio', AVMEDIA_TYPE_AUDIO), stream('cover', AVMEDIA_TYPE_VIDEO, AV_DISPOSITION_ATTACHED_PIC | AV_DISPOSITION_DEFAULT)])).toBeUndefined();
  });
});
