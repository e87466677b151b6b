#include "maya/io/trajectory.hpp"

#include <gtest/gtest.h>

#include "maya/core/error.hpp"
#include "maya/io/npy.hpp"

namespace {

maya::io::Trajectory two_particles_two_frames() {
  maya::io::Trajectory trajectory;
  trajectory.times = {0.0, 0.1};
  trajectory.num_particles = 2;
  trajectory.positions = {0, 1, 2, 3, 0.5, 1.5, 2.5, 3.5};
  trajectory.velocities = {0, 0, 0, 0, 5, 5, 5, 5};
  return trajectory;
}

}  // namespace

TEST(TrajectoryCsv, OneRowPerFrameAndParticleWithExactValues) {
  const std::string csv = maya::io::trajectory_csv(two_particles_two_frames());
  EXPECT_EQ(csv,
            "step,time,particle,x,y,vx,vy\n"
            "0,0,0,0,1,0,0\n"
            "0,0,1,2,3,0,0\n"
            "1,0.1,0,0.5,1.5,5,5\n"
            "1,0.1,1,2.5,3.5,5,5\n");
}

TEST(TrajectoryNpy, PositionsHaveShapeFramesParticlesDim) {
  const maya::io::NpyArray array =
      maya::io::parse_npy(maya::io::positions_npy(two_particles_two_frames()));
  EXPECT_EQ(array.shape, (std::vector<std::size_t>{2, 2, 2}));
  EXPECT_EQ(array.values[4], 0.5);
}

TEST(Trajectory, InconsistentSizesThrowShapeError) {
  maya::io::Trajectory trajectory = two_particles_two_frames();
  trajectory.positions.pop_back();
  EXPECT_THROW(trajectory.check(), maya::ShapeError);
  EXPECT_THROW((void)maya::io::trajectory_csv(trajectory), maya::ShapeError);
}
